// edgepollctl config show / config overlay clear: both over the control socket,
// because the effective config (the files plus the Kafka overlay) is what the
// daemon's config_cache holds, not what the files on disk say, and device
// configs may carry what the TCP health port must not show.
#include <iostream>

#include "commands.hpp"
#include "output.hpp"

namespace edgepoll::ctl {

namespace {

std::string text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  return v.is_null() ? "-" : v.dump();
}

// One device: its settings with where each came from.
void print_device(const nlohmann::json& d) {
  std::cout << d.value("id", "?") << "  " << (d.value("enabled", true) ? "enabled" : "disabled")
            << "  defined at " << d.value("defined_at", "-") << "\n";
  const auto settings = d.value("settings", nlohmann::json::object());
  const auto keys = d.value("keys", nlohmann::json::object());
  std::vector<std::vector<std::string>> rows;
  for (const auto& [name, value] : settings.items())
    rows.push_back({"  " + name, text(value), keys.contains(name) ? text(keys[name]) : "(default)"});
  for (const auto& [name, from] : keys.items())
    if (!settings.contains(name)) rows.push_back({"  " + name, "(set)", text(from)});
  print_table({"  SETTING", "VALUE", "FROM"}, rows);
}

}  // namespace

int run_config_show(const Context& c, const std::string& device) {
  nlohmann::json request = {{"op", "config.show"}};
  if (!device.empty()) request["device"] = device;
  auto answer = c.control(request);
  if (!answer.ok()) return fail(answer.error(), c.json());
  if (!answer->value("ok", false)) return print_answer(answer.value(), c.json(), "");
  if (c.json()) {
    std::cout << answer->dump(2) << "\n";
    return kExitOk;
  }
  std::cout << "config source: " << answer->value("source", "?");
  if (!answer->value("source_detail", "").empty()) std::cout << " (" << answer->value("source_detail", "") << ")";
  std::cout << "\n";
  const auto devices = answer->value("devices", nlohmann::json::array());
  if (device.empty()) std::cout << devices.size() << " devices\n";
  for (const auto& d : devices) {
    std::cout << "\n";
    print_device(d);
  }
  const auto notes = answer->value("notes", nlohmann::json::array());
  if (!notes.empty()) {
    std::cout << "\nnotes:\n";
    for (const auto& n : notes) std::cout << "  " << text(n) << "\n";
  }
  return kExitOk;
}

int run_config_overlay_clear(const Context& c, const std::string& device, bool all) {
  nlohmann::json request = {{"op", "config.overlay_clear"}};
  if (all) request["all"] = true;
  else request["device"] = device;
  auto answer = c.control(request);
  if (!answer.ok()) return fail(answer.error(), c.json());
  const auto n = answer->value("cleared", 0);
  const std::string done = n == 0 ? (all ? "the overlay was empty" : "no overlay entry for " + device)
                           : all  ? "cleared the overlay of " + std::to_string(n) + " devices"
                                  : "cleared the overlay of " + device;
  return print_answer(answer.value(), c.json(), done + " (the files' settings apply again)");
}

}  // namespace edgepoll::ctl
