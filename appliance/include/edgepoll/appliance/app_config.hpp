#pragma once
// edgepoll.toml: one section per component, each validated by the component's
// own parse() (unknown keys rejected by name). Errors name the file, the
// section or line, and what was expected.
//
//   [node]      -> NodeConfig (id, default the host name)
//   [storage]   -> storage::StoreConfig
//   [health]    -> HealthConfig
//   [kafka]     -> kafka::KafkaConfig (absent: readings stay in the outbox)
//   [control]   -> ControlConfig (the operator's control socket)
//   [registration] -> RegistrationConfig (absent: no registration worker)
//   [chaos]     -> ChaosConfig (the chaos hook for test rigs; off by default)
//   [pollers]   backoff_base = "10s", backoff_cap = "1h", max_consecutive_failures = 3
//   [[device]]  -> pollers::DeviceConfig (one table per device)
#include <optional>
#include <string>
#include <vector>

#include "edgepoll/appliance/chaos_config.hpp"
#include "edgepoll/appliance/control_config.hpp"
#include "edgepoll/appliance/health_endpoint.hpp"
#include "edgepoll/appliance/node_config.hpp"
#include "edgepoll/appliance/registration_config.hpp"
#include "edgepoll/kafka/kafka_config.hpp"
#include "edgepoll/pollers/config_manager.hpp"
#include "edgepoll/pollers/device_config.hpp"
#include "edgepoll/storage/store_config.hpp"

namespace edgepoll::appliance {

struct PollersConfig {
  pollers::ConfigManagerOptions manager;
  unsigned max_consecutive_failures = 3;
  static Result<PollersConfig> parse(const toml::table& section);
};

struct AppConfig {
  std::string source;  // the file it came from
  NodeConfig node = NodeConfig::defaults();
  storage::StoreConfig storage;
  std::optional<kafka::KafkaConfig> kafka;
  HealthConfig health;
  ControlConfig control;
  std::optional<RegistrationConfig> registration;
  PollersConfig pollers;
  ChaosConfig chaos;
  std::vector<pollers::DeviceConfig> devices;

  static Result<AppConfig> load(const std::string& path);
  static Result<AppConfig> parse(std::string_view text, const std::string& source);
};

}  // namespace edgepoll::appliance
