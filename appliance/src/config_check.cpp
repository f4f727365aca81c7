#include "edgepoll/appliance/config_check.hpp"

#include "edgepoll/appliance/app_config.hpp"

namespace edgepoll::appliance {

ConfigCheck check_config(const std::string& path) {
  auto config = AppConfig::load(path);
  if (!config.ok()) return {false, config.error().describe()};
  return {true, path + ": ok (" + std::to_string(config->devices.size()) + " devices)"};
}

}  // namespace edgepoll::appliance
