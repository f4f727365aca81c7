#include "edgepoll/appliance/command_bridge.hpp"

#include <future>

#include <nlohmann/json.hpp>

#include "edgepoll/appliance/config_cache.hpp"
#include "edgepoll/pollers/config_manager.hpp"
#include "edgepoll/supervision/supervisor.hpp"

namespace edgepoll::appliance {

using namespace supervision;

namespace {
constexpr auto kAnswerTimeout = std::chrono::seconds(10);

Result<toml::array> to_array(const nlohmann::json& a);

// Adds one JSON value through `add` (push_back for arrays, insert for tables).
template <class Container, class Add>
Status add_value(const nlohmann::json& v, const std::string& where, Add add) {
  if (v.is_string()) return add(v.get<std::string>()), ok_status();
  if (v.is_boolean()) return add(v.get<bool>()), ok_status();
  if (v.is_number_integer()) return add(v.get<std::int64_t>()), ok_status();
  if (v.is_number_float()) return add(v.get<double>()), ok_status();
  if (v.is_object()) {
    auto t = json_to_toml(v);
    if (!t.ok()) return t.take_error();
    return add(std::move(t.value())), ok_status();
  }
  if (v.is_array()) {
    auto a = to_array(v);
    if (!a.ok()) return a.take_error();
    return add(std::move(a.value())), ok_status();
  }
  return make_error("command.invalid", where + ": null is not a config value");
}

Result<toml::array> to_array(const nlohmann::json& a) {
  toml::array out;
  for (const auto& v : a) {
    auto s = add_value<toml::array>(v, "array", [&out](auto&& x) { out.push_back(std::forward<decltype(x)>(x)); });
    if (!s.ok()) return s.take_error();
  }
  return out;
}
}  // namespace

Result<toml::table> json_to_toml(const nlohmann::json& object) {
  if (!object.is_object()) return make_error("command.invalid", "config: expected an object");
  toml::table out;
  for (const auto& item : object.items()) {  // no structured binding: clang 14 cannot capture one
    const std::string& key = item.key();
    const auto& v = item.value();
    auto s = add_value<toml::table>(v, "config." + key,
                                    [&out, &key](auto&& x) { out.insert(key, std::forward<decltype(x)>(x)); });
    if (!s.ok()) return s.take_error();
  }
  return out;
}

ConfigCommands::ConfigCommands(Runtime& runtime, std::string root_name)
    : runtime_(runtime), root_name_(std::move(root_name)) {}

Pid config_manager_pid(Runtime& runtime, const std::string& root_name) {
  const auto root = runtime.registry().whereis(root_name);
  return root ? find_in_tree(*root, root->path() + "/edge/config_manager") : Pid{};
}

Result<pollers::DeviceCommand> to_device_command(const kafka::Command& c) {
  using kafka::CommandType;
  using Kind = pollers::DeviceCommand::Kind;
  pollers::DeviceCommand cmd;
  cmd.device = c.device;
  switch (c.type) {
    case CommandType::set_poll_interval: cmd.kind = Kind::set_interval; cmd.interval = c.interval; break;
    case CommandType::enable_device: cmd.kind = Kind::enable; break;
    case CommandType::disable_device: cmd.kind = Kind::disable; break;
    case CommandType::remove_device: cmd.kind = Kind::remove; break;
    case CommandType::poll_now: cmd.kind = Kind::poll_now; break;
    case CommandType::add_device:
    case CommandType::replace_device: {
      auto json = nlohmann::json::parse(c.device_config, nullptr, false);
      auto table = json_to_toml(json);
      if (!table.ok()) return table.take_error();
      if (!table->contains("id")) table->insert("id", c.device);
      auto config = pollers::DeviceConfig::parse(table.value());
      if (!config.ok()) {
        Error e = config.take_error();
        e.code = "command.invalid";
        return e;
      }
      if (config->id != c.device) {
        return make_error("command.invalid", "config.id '" + config->id + "' differs from device '" + c.device + "'");
      }
      cmd.kind = Kind::upsert;
      cmd.config = std::move(config.value());
      break;
    }
  }
  return cmd;
}

Status send_command(Runtime& runtime, const std::string& root_name, const kafka::Command& c,
                    std::function<void(Status)> reply) {
  const auto root = runtime.registry().whereis(root_name);
  if (c.type == kafka::CommandType::poll_now) {
    // Not a config change: straight to the config manager, which runs the device.
    const Pid manager = config_manager_pid(runtime, root_name);
    if (!manager) return make_error("command.unavailable", "the config manager is not running", /*retryable=*/true);
    pollers::DeviceCommand cmd;
    cmd.kind = pollers::DeviceCommand::Kind::poll_now;
    cmd.device = c.device;
    cmd.reply = std::move(reply);
    runtime.send(manager, std::move(cmd));
    return ok_status();
  }
  // Every config change goes through the config cache's overlay: recorded
  // with its origin and written to disk before the devices see it.
  const Pid cache = root ? find_in_tree(*root, root->path() + "/edge/config_cache") : Pid{};
  if (!cache) return make_error("command.unavailable", "the config cache is not running", /*retryable=*/true);
  runtime.send(cache, OverlayChange{c, std::move(reply)});
  return ok_status();
}

Status ConfigCommands::apply(const kafka::Command& c) {
  auto promise = std::make_shared<std::promise<Status>>();
  auto answer = promise->get_future();
  if (auto sent = send_command(runtime_, root_name_, c, [promise](Status s) { promise->set_value(std::move(s)); });
      !sent.ok()) {
    return sent;
  }
  if (answer.wait_for(kAnswerTimeout) != std::future_status::ready) {
    return make_error("command.timeout", "the config cache did not answer in 10 s", /*retryable=*/true);
  }
  return answer.get();
}

}  // namespace edgepoll::appliance
