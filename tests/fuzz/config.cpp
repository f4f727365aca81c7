// The main config file (edgepoll.toml) from an operator's bytes, through the
// entry point the daemon reads its file with: AppConfig::parse(text, source).
// Beyond not crashing: an error names something, and a config that parsed
// holds devices with distinct, non-empty ids (the parser refuses duplicates).
#include <set>
#include <string>

#include "edgepoll/appliance/app_config.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace edgepoll;
  auto config = appliance::AppConfig::parse(fuzz::text(data, size), "fuzz/edgepoll.toml");
  if (!config) {
    fuzz::require_readable(config.error());
    return 0;
  }
  std::set<std::string> ids;
  for (const auto& device : config->devices) {
    fuzz::require(!device->id.empty(), "a parsed device has an id");
    fuzz::require(ids.insert(device->id).second, "parsed device ids are distinct");
  }
  return 0;
}
