#pragma once
// The subcommands; each returns its exit code (context.hpp).
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "context.hpp"

namespace edgepoll::ctl {

// One device as edgepollctl shows it, from /tree, the config and device_state.
struct DeviceRow {
  std::string id;
  std::string protocol = "-";           // modbus, or the URL scheme of an HTTP device
  std::string state = "unknown";        // polling / degraded / backoff / connecting / quarantined / disabled / stopped
  std::optional<std::int64_t> last_good_poll_ms;
  std::optional<std::int64_t> consecutive_failures;
  std::optional<std::int64_t> quarantined_until_ms;
  std::string source = "-";             // where its config came from
  nlohmann::json detail;                // the device's fsm as /tree describes it
};

// The node in /tree whose "path" is `path`, or nullptr.
const nlohmann::json* find_node(const nlohmann::json& tree, const std::string& path);
// Every device the daemon knows, sorted by id; reads the state DB when it can.
std::vector<DeviceRow> collect_devices(const Context& c, const nlohmann::json& tree);
nlohmann::json to_json(const DeviceRow& d);

int run_status(const Context& c);
int run_tree(const Context& c);
int run_devices(const Context& c, const std::string& state);
int run_device_show(const Context& c, const std::string& id);
int run_device_action(const Context& c, const std::string& op, const std::string& id);
int run_dlq_list(const Context& c, const std::string& source, const std::string& since);
int run_dlq_show(const Context& c, const std::string& key);
int run_dlq_replay(const Context& c, const std::string& key, bool all);
int run_dlq_drop(const Context& c, const std::string& key, bool all, const std::string& reason);
int run_config_show(const Context& c, const std::string& device);
int run_config_overlay_clear(const Context& c, const std::string& device, bool all);

}  // namespace edgepoll::ctl
