#pragma once
// The configuration files: the main file (edgepoll.toml) with one section per
// component, each validated by the component's own parse() (unknown keys
// rejected by name), plus the device files beside it (devices.d/*.toml, read in
// name order), each holding [[device]] tables. Errors name the file, the line
// and what was expected.
//
//   [node]      -> NodeConfig (id, default the host name)
//   [storage]   -> storage::StoreConfig
//   [health]    -> HealthConfig
//   [kafka]     -> kafka::KafkaConfig (absent: readings stay in the outbox)
//   [control]   -> ControlConfig (the operator's control socket)
//   [registration] -> RegistrationConfig (absent: no registration worker)
//   [chaos]     -> ChaosConfig (the chaos hook for test rigs; off by default)
//   [pollers]   backoff_base, backoff_cap, stable_after, max_consecutive_failures,
//               devices_dir (default "devices.d", relative to the main file's directory)
//   [pollers.defaults]  device keys every [[device]] gets unless it sets them
//   [[device]]  -> pollers::DeviceConfig (one table per device; main file or devices.d)
#include <map>
#include <memory>
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
  std::string devices_dir = "devices.d";
  bool devices_dir_set = false;  // given explicitly: then it must exist
  toml::table defaults;          // [pollers.defaults], validated
  std::map<std::string, std::int64_t> default_lines;  // key -> its line in the main file
  static Result<PollersConfig> parse(const toml::table& section);
};

// One file's text as read (or as kept in the last-good cache).
struct ConfigFile {
  std::string path;  // as opened
  std::string text;
};

// The files one configuration is made of: the main file, then devices.d in name order.
struct ConfigFiles {
  ConfigFile main;
  std::string devices_dir;     // resolved path
  std::string devices_note;    // "" or why devices.d holds nothing ("does not exist", "is empty")
  std::vector<ConfigFile> devices;
};

// Where each key of a device was set: key -> "devices.d/boilers.toml:12".
using KeyOrigins = std::map<std::string, std::string>;

// Where one device and each of its keys were set, e.g. "devices.d/boilers.toml:12".
struct DeviceSource {
  std::string defined_at;
  std::shared_ptr<const KeyOrigins> keys;  // never null; shared with the effective config
};

struct AppConfig {
  std::string source;  // the main file
  NodeConfig node = NodeConfig::defaults();
  storage::StoreConfig storage;
  std::optional<kafka::KafkaConfig> kafka;
  HealthConfig health;
  ControlConfig control;
  std::optional<RegistrationConfig> registration;
  PollersConfig pollers;
  ChaosConfig chaos;
  // In file order. Shared, never copied, with the effective config and the
  // config manager: at 10,000 devices each copy would cost about 7 MB.
  std::vector<std::shared_ptr<const pollers::DeviceConfig>> devices;

  ConfigFiles files;                                 // what it was parsed from
  std::map<std::string, DeviceSource> device_sources;  // by device id
  std::vector<std::pair<std::string, std::size_t>> devices_per_file;  // display name -> count
  // Each section's TOML as text ("" when absent): a reload compares them to
  // know which subtrees to restart.
  std::map<std::string, std::string> section_text;

  // Reads the main file and its devices directory, then parses them (from_files).
  static Result<AppConfig> load(const std::string& path);
  static Result<ConfigFiles> read_files(const std::string& path);
  static Result<AppConfig> from_files(const ConfigFiles& files);
  // The main file alone, from text (no devices directory is read).
  static Result<AppConfig> parse(std::string_view text, const std::string& source);
};

// A file's name as provenance shows it: relative to the main file's directory
// when inside it ("devices.d/boilers.toml"), else the path as given.
std::string display_name(const std::string& path, const std::string& main_path);

// Gives each key that `keys` lacks and [pollers.defaults] sets the origin of
// that default, e.g. "edgepoll.toml:14 ([pollers.defaults])": a device's key
// it did not set itself came from there.
void add_default_origins(const AppConfig& config, KeyOrigins& keys);

}  // namespace edgepoll::appliance
