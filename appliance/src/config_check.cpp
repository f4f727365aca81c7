#include "edgepoll/appliance/config_check.hpp"

#include <sstream>

#include "edgepoll/appliance/app_config.hpp"
#include "edgepoll/appliance/prerequisites.hpp"
#include "edgepoll/pollers/modbus/request_plan.hpp"
#include "edgepoll/pollers/snmp/snmp_config.hpp"

namespace edgepoll::appliance {

namespace {
// What each Modbus device will send per poll, so that an operator sees merges
// and gaps before the devices do.
void print_request_plans(const std::vector<std::shared_ptr<const pollers::DeviceConfig>>& devices,
                         std::ostream& out) {
  for (const auto& device : devices) {
    const pollers::DeviceConfig& d = *device;
    if (!d.modbus) continue;
    const auto plan = pollers::plan_requests(*d.modbus);
    out << "\ndevice " << d.id << " (modbus " << d.modbus->gateway() << " unit " << int{d.modbus->unit_id} << "): "
        << plan.size() << (plan.size() == 1 ? " request" : " requests") << " per poll";
    for (const auto& line : pollers::describe_plan(plan, *d.modbus)) out << "\n  " << line;
  }
}

// What each SNMP device will send per poll (the GETs its scalars take, the
// tables it walks and their bounds) and whether its secret files can be read
// now, as the device's connection will read them when it starts. A secret is
// never printed, only its file.
void print_snmp_plans(const std::vector<std::shared_ptr<const pollers::DeviceConfig>>& devices,
                      std::ostream& out) {
  for (const auto& device : devices) {
    const pollers::DeviceConfig& d = *device;
    if (!d.snmp) continue;
    const auto& s = *d.snmp;
    const std::size_t gets = (s.metrics.size() + s.max_oids_per_pdu - 1) / s.max_oids_per_pdu;
    out << "\ndevice " << d.id << " (snmp v" << pollers::snmp_version_name(s.version) << " " << s.agent() << "): "
        << s.metrics.size() << (s.metrics.size() == 1 ? " scalar" : " scalars") << " in " << gets
        << (gets == 1 ? " GET" : " GETs") << " of up to " << s.max_oids_per_pdu << " OIDs, " << s.tables.size()
        << (s.tables.size() == 1 ? " table" : " tables") << "; timeout " << pollers::format_duration(d.timeout)
        << " per attempt, " << s.retries << (s.retries == 1 ? " retry" : " retries");
    const char* walk = s.version == pollers::SnmpVersion::v1 ? "GETNEXT" : "GETBULK";
    for (const auto& t : s.tables)
      out << "\n  table " << t.name << ": " << t.columns.size() << (t.columns.size() == 1 ? " column" : " columns")
          << " and " << t.tags.size() << (t.tags.size() == 1 ? " tag" : " tags") << " walked with " << walk
          << (s.version == pollers::SnmpVersion::v1 ? "" : " of " + std::to_string(t.max_repetitions) + " repetitions")
          << ", at most " << t.max_rows << " rows in " << pollers::format_duration(t.max_walk_time);
    const auto secrets = pollers::load_snmp_secrets(s, d.id);
    out << "\n  secret files: " << (secrets.ok() ? "readable" : secrets.error().describe());
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
  print_snmp_plans(config->devices, report);
  // The boot checks that need no lock on the store (state dir, free space).
  std::ostringstream prerequisites;
  const bool fit = report_prerequisites(prerequisites, config->storage);
  std::string checks = prerequisites.str();
  while (!checks.empty() && checks.back() == '\n') checks.pop_back();
  if (!checks.empty()) report << "\n" << checks;
  return {fit, true, report.str()};
}

}  // namespace edgepoll::appliance
