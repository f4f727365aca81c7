#include "edgepoll/appliance/config_check.hpp"

#include <sstream>

#include "edgepoll/appliance/app_config.hpp"
#include "edgepoll/appliance/prerequisites.hpp"
#include "edgepoll/pollers/modbus/request_plan.hpp"

namespace edgepoll::appliance {

namespace {
// What each Modbus device will send per poll, so that an operator sees merges
// and gaps before the devices do.
void print_request_plans(const std::vector<pollers::DeviceConfig>& devices, std::ostream& out) {
  for (const auto& d : devices) {
    if (!d.modbus) continue;
    const auto plan = pollers::plan_requests(*d.modbus);
    out << "\ndevice " << d.id << " (modbus " << d.modbus->gateway() << " unit " << int{d.modbus->unit_id} << "): "
        << plan.size() << (plan.size() == 1 ? " request" : " requests") << " per poll";
    for (const auto& line : pollers::describe_plan(plan, *d.modbus)) out << "\n  " << line;
  }
}
}  // namespace

ConfigCheck check_config(const std::string& path) {
  auto config = AppConfig::load(path);
  if (!config.ok()) return {false, false, config.error().describe()};
  std::ostringstream report;
  const auto total = config->devices.size();
  report << path << ": ok, " << total << (total == 1 ? " device" : " devices");
  for (const auto& [file, n] : config->devices_per_file) {
    report << "\n  " << file << ": " << n << (n == 1 ? " device" : " devices");
  }
  if (!config->files.devices_note.empty()) report << "\n  " << config->files.devices_note;
  print_request_plans(config->devices, report);
  // The boot checks that need no lock on the store (state dir, free space).
  std::ostringstream prerequisites;
  const bool fit = report_prerequisites(prerequisites, config->storage);
  std::string checks = prerequisites.str();
  while (!checks.empty() && checks.back() == '\n') checks.pop_back();
  if (!checks.empty()) report << "\n" << checks;
  return {fit, true, report.str()};
}

}  // namespace edgepoll::appliance
