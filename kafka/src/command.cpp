#include "edgepoll/kafka/command.hpp"

#include <array>
#include <cctype>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

namespace edgepoll::kafka {
namespace {

using nlohmann::json;

constexpr std::array<std::pair<CommandType, std::string_view>, 7> kTypes = {{
    {CommandType::set_poll_interval, "set_poll_interval"},
    {CommandType::enable_device, "enable_device"},
    {CommandType::disable_device, "disable_device"},
    {CommandType::add_device, "add_device"},
    {CommandType::remove_device, "remove_device"},
    {CommandType::replace_device, "replace_device"},
    {CommandType::poll_now, "poll_now"},
}};

Error invalid(std::string_view field, std::string_view expected) {
  return make_error("command.invalid", fmt::format("field \"{}\": expected {}", field, expected),
                    false, "fix the command and send it again");
}

// As [node] id: letters, digits, '.', '-', '_'.
bool valid_node_id(const std::string& s) {
  if (s.empty() || s.size() > 128) return false;
  for (unsigned char c : s)
    if (!std::isalnum(c) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

bool valid_device_id(const std::string& s) {
  if (s.empty() || s.size() > 128) return false;
  for (unsigned char c : s)
    if (!std::isalnum(c) && c != '-' && c != '_' && c != '.' && c != ':') return false;
  return true;
}

std::string type_names() {
  std::string s;
  for (const auto& [t, name] : kTypes) s += (s.empty() ? "" : ", ") + std::string(name);
  return s;
}

}  // namespace

std::string_view to_string(CommandType type) {
  for (const auto& [t, name] : kTypes)
    if (t == type) return name;
  return "?";
}

std::string Command::id_of(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return {};
  auto id = j.find("id");
  return id != j.end() && id->is_string() ? id->get<std::string>() : std::string();
}

Result<Command> Command::parse(std::string_view text) {
  // A peer's bytes never crash us: no exceptions out of the parser.
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded())
    return make_error("command.unparsable", "the message is not valid JSON", false,
                      "send one JSON object per message");
  if (!j.is_object()) return invalid("(message)", "a JSON object");

  Command c;
  const auto& type = j.find("type");
  if (type == j.end() || !type->is_string()) return invalid("type", "a string: " + type_names());
  bool known = false;
  for (const auto& [t, name] : kTypes)
    if (name == type->get_ref<const std::string&>()) c.type = t, known = true;
  if (!known) return invalid("type", "one of " + type_names());

  const auto& node = j.find("node");
  if (node == j.end() || !node->is_string() ||
      !(node->get_ref<const std::string&>() == kEveryNode || valid_node_id(node->get<std::string>())))
    return invalid("node", "the [node] id of the appliance this command is for, or \"*\" for every appliance");
  c.node = node->get<std::string>();

  const auto& device = j.find("device");
  if (device == j.end() || !device->is_string() || !valid_device_id(device->get<std::string>()))
    return invalid("device", "a device id (1-128 of A-Z a-z 0-9 - _ . :)");
  c.device = device->get<std::string>();

  if (auto id = j.find("id"); id != j.end()) {
    if (!id->is_string() || id->get_ref<const std::string&>().empty())
      return invalid("id", "a non-empty string");
    c.id = id->get<std::string>();
  }

  std::vector<std::string_view> allowed = {"type", "node", "device", "id"};
  if (c.type == CommandType::set_poll_interval) {
    allowed.push_back("interval_ms");
    const auto& ms = j.find("interval_ms");
    const auto range = fmt::format("an integer number of milliseconds in [{}, {}]",
                                   kMinPollInterval.count(), kMaxPollInterval.count());
    if (ms == j.end() || !ms->is_number_integer()) return invalid("interval_ms", range);
    const auto v = ms->get<std::int64_t>();
    if (v < kMinPollInterval.count() || v > kMaxPollInterval.count())
      return invalid("interval_ms", range);
    c.interval = std::chrono::milliseconds(v);
  }
  if (c.type == CommandType::add_device || c.type == CommandType::replace_device) {
    allowed.push_back("config");
    const auto& config = j.find("config");
    if (config == j.end() || !config->is_object() || config->empty())
      return invalid("config", "a non-empty JSON object with the device's configuration");
    c.device_config = config->dump();
  }
  for (const auto& [key, value] : j.items()) {
    bool ok = false;
    for (auto a : allowed) ok = ok || a == key;
    if (!ok)
      return invalid(key, fmt::format("no such field for \"{}\" (allowed: {})", to_string(c.type),
                                      fmt::join(allowed, ", ")));
  }
  return c;
}

}  // namespace edgepoll::kafka
