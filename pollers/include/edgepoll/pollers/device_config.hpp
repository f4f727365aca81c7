#pragma once
// One device's config section, e.g.
//
//   id = "boiler-1"
//   url = "http://10.0.0.7/status"
//   interval = "5s"            # poll period
//   timeout = "2s"             # per request
//   max_body = 65536           # bytes; larger responses are aborted
//   verify_tls = true
//   ca_file = "/etc/edgepoll/ca.pem"
//   auth = { type = "bearer", token_file = "/etc/edgepoll/secrets/boiler-1" }
//   intensity = { max_restarts = 3, period = "30s" }   # its supervisor's
//   breaker = { failures = 5, open_for = "30s", slow_latency = "1s", slow_count = 3 }
//   metrics = [ { pointer = "/temp", name = "boiler.temp", type = "float", unit = "degC" } ]
//
// `protocol = "modbus"` devices have no url/auth/metrics keys; their protocol
// table is [device.modbus] (see modbus/modbus_config.hpp); `protocol = "snmp"`
// devices likewise have [device.snmp] (snmp/snmp_config.hpp).
//
// Unknown keys are rejected by name (with the device id): a typo must not
// silently fall back to a default.
#include <toml++/toml.h>

#include <optional>
#include <string>
#include <vector>

#include "edgepoll/pollers/boxed.hpp"
#include "edgepoll/pollers/circuit_breaker.hpp"
#include "edgepoll/pollers/decoder.hpp"
#include "edgepoll/pollers/modbus/modbus_config.hpp"
#include "edgepoll/pollers/protocol.hpp"
#include "edgepoll/pollers/snmp/snmp_config.hpp"
#include "edgepoll/supervision/result.hpp"

namespace edgepoll::pollers {

enum class AuthKind { none, basic, bearer };

// Secrets are never in the config itself, only the files that hold them.
struct AuthConfig {
  AuthKind kind = AuthKind::none;
  std::string username;       // basic
  std::string password_file;  // basic
  std::string token_file;     // bearer
  bool operator==(const AuthConfig&) const = default;
};

// Auth with its secrets loaded from their files (see load_auth).
struct Auth {
  AuthKind kind = AuthKind::none;
  std::string username;
  std::string secret;  // password (basic) or token (bearer)
};

// Reads the secret files; a missing/empty file is a non-retryable config error.
Result<Auth> load_auth(const AuthConfig& config, const std::string& device_id);

struct Intensity {
  unsigned max_restarts = 3;
  Duration period = std::chrono::seconds(30);
  bool operator==(const Intensity&) const = default;
};

struct DeviceConfig {
  std::string id;
  std::string url;
  Duration interval = std::chrono::seconds(10);
  Duration timeout = std::chrono::seconds(2);
  std::size_t max_body = 1 << 20;
  bool verify_tls = true;
  std::string ca_file;
  AuthConfig auth;
  Intensity intensity;
  BreakerConfig breaker;
  std::vector<MetricMapping> metrics;
  Protocol protocol = Protocol::http;    // the fields above from url on are HTTP's
  Boxed<ModbusDeviceConfig> modbus;      // set when protocol == modbus
  Boxed<SnmpDeviceConfig> snmp;          // set when protocol == snmp

  static Result<DeviceConfig> parse(const toml::table& table);
  // Equal configs need no restart of the device (the config manager compares).
  bool operator==(const DeviceConfig&) const = default;
};

}  // namespace edgepoll::pollers
