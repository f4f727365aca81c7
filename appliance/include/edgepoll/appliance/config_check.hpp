#pragma once
// The one config validation `edgepolld --check-config` and `edgepollctl config
// check` both run: load and validate the file as the daemon would at start.
#include <string>

namespace edgepoll::appliance {

struct ConfigCheck {
  bool ok = false;
  bool valid = false;  // the files validate (ok is false too when a prerequisite fails)
  std::string report;  // "PATH: ok (N devices)", each Modbus device's request plan and the prerequisite lines, or the error naming file, line and key
};

ConfigCheck check_config(const std::string& path);

}  // namespace edgepoll::appliance
