#pragma once
// The effective config: the files plus an overlay of the changes Kafka
// commands made. Precedence is fixed: for the devices and fields it touches the
// overlay wins over the files until an operator clears it (ClearOverlay); a
// device the overlay added stays when the files do not have it, and says so.
// Every device knows where each of its settings came from.
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "edgepoll/appliance/app_config.hpp"
#include "edgepoll/kafka/command.hpp"

namespace edgepoll::appliance {

// Which command made an overlay change:
// "command c-17, edgepoll.commands/0/4411, 2026-11-30T10:02:11Z".
struct CommandOrigin {
  std::string command_id;  // "" when the command had none
  std::string position;    // topic/partition/offset
  std::string time;        // UTC, when it was applied
  std::string describe() const;
  static CommandOrigin now(const kafka::Command& command);
};

// What the overlay says about one device. Fields not set leave the files' say.
struct OverlayEntry {
  std::optional<nlohmann::json> config;  // add_device / replace_device: the whole config, as sent
  bool removed = false;                  // remove_device
  std::optional<bool> enabled;           // enable_device / disable_device
  std::optional<std::int64_t> interval_ms;       // set_poll_interval
  std::map<std::string, CommandOrigin> origins;  // "config" | "removed" | "enabled" | "interval"
};

struct Overlay {
  std::map<std::string, OverlayEntry> devices;

  nlohmann::json to_json() const;
  static Result<Overlay> from_json(const nlohmann::json& j);
};

// The config and the key origins are the files' own (shared, not copied)
// unless a command changed them; neither is ever null.
struct EffectiveDevice {
  std::shared_ptr<const pollers::DeviceConfig> config;
  bool enabled = true;
  std::string defined_at;                   // "devices.d/a.toml:3", or the command that added it
  std::shared_ptr<const KeyOrigins> keys;   // setting -> where it came from
};

struct EffectiveConfig {
  std::vector<EffectiveDevice> devices;  // files order, then overlay-only devices by id
  std::vector<std::string> notes;        // overlay entries that no longer apply, and why

  const EffectiveDevice* find(const std::string& id) const;
  // The list the config manager runs (disabled devices named, not started).
  pollers::ApplyDevices to_apply() const;
  nlohmann::json to_json() const;
};

EffectiveConfig build_effective(const AppConfig& files, const Overlay& overlay);

// Records one config-changing command in the overlay; refuses (and leaves the
// overlay as it was) a command for a device the effective config does not
// have ("command.unknown_device") or with an invalid config ("command.invalid").
// poll_now changes no config and is refused here.
Status apply_command(Overlay& overlay, const EffectiveConfig& now, const kafka::Command& command,
                     const CommandOrigin& origin);

// What changed between two effective configs, by device id.
struct DeviceDiff {
  std::vector<std::string> added, removed, changed;  // changed: config or enabled differs
  bool empty() const { return added.empty() && removed.empty() && changed.empty(); }
};
DeviceDiff diff_devices(const EffectiveConfig& before, const EffectiveConfig& after);

}  // namespace edgepoll::appliance
