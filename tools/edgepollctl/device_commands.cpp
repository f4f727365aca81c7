// edgepollctl devices / device show / device enable|disable|poll-now.
#include <iostream>
#include <map>

#include "commands.hpp"
#include "edgepoll/storage/reader.hpp"
#include "output.hpp"

namespace edgepoll::ctl {

namespace {
constexpr const char* kPollers = "root/edge/pollers";
constexpr const char* kConfigManager = "root/edge/config_manager";

std::string opt(const std::optional<std::int64_t>& v) { return v ? std::to_string(*v) : "-"; }
}  // namespace

const nlohmann::json* find_node(const nlohmann::json& tree, const std::string& path) {
  if (tree.value("path", "") == path) return &tree;
  if (!tree.contains("children")) return nullptr;
  for (const auto& child : tree["children"]) {
    const std::string p = child.value("path", "");
    if (!p.empty() && (path == p || path.rfind(p + "/", 0) == 0))
      if (const auto* found = find_node(child, path)) return found;
  }
  return nullptr;
}

std::vector<DeviceRow> collect_devices(const Context& c, const nlohmann::json& tree) {
  std::map<std::string, DeviceRow> rows;
  auto row = [&rows](const std::string& id) -> DeviceRow& {
    auto& r = rows[id];
    r.id = id;
    return r;
  };
  for (const auto& device : c.config().devices) {
    const pollers::DeviceConfig& d = *device;
    auto& r = row(d.id);
    r.protocol = d.protocol == pollers::Protocol::http ? d.url.substr(0, d.url.find("://"))
                                                       : std::string(pollers::protocol_name(d.protocol));
    // The file and line that define it (devices.d/boilers.toml:12), else the main file.
    const auto where = c.config().device_sources.find(d.id);
    r.source = where != c.config().device_sources.end() && !where->second.defined_at.empty() ? where->second.defined_at
                                                                                             : c.config().source;
    r.state = "stopped";
  }
  if (const auto* pollers = find_node(tree, kPollers); pollers && pollers->contains("children")) {
    for (const auto& sub : (*pollers)["children"]) {
      const std::string id = sub.value("id", "");
      if (id.rfind("device:", 0) != 0) continue;
      auto& r = row(id.substr(7));
      if (r.source == "-") r.source = "runtime (a command added it)";
      r.state = sub.value("state", "running");
      for (const auto& part : sub.value("children", nlohmann::json::array())) {
        if (part.contains("device_state")) {
          r.state = part["device_state"].get<std::string>();
          r.detail = part;
        }
      }
    }
  }
  if (const auto* manager = find_node(tree, kConfigManager)) {
    for (const auto& id : manager->value("quarantined", nlohmann::json::array())) row(id.get<std::string>()).state = "quarantined";
    for (const auto& id : manager->value("disabled", nlohmann::json::array())) row(id.get<std::string>()).state = "disabled";
  }
  // device_state is the store's record of each device's polls (read-only here).
  if (auto reader = storage::Reader::open(c.config().storage); reader.ok()) {
    if (auto states = reader->device_states(); states.ok()) {
      for (const auto& s : states.value()) {
        auto it = rows.find(s.device_id);
        if (it == rows.end()) continue;  // a device that was removed keeps its sequence row
        it->second.last_good_poll_ms = s.last_good_poll_ms;
        it->second.consecutive_failures = s.consecutive_failures;
        it->second.quarantined_until_ms = s.quarantine_until_ms;
      }
    }
  }
  std::vector<DeviceRow> out;
  out.reserve(rows.size());
  for (auto& [id, r] : rows) out.push_back(std::move(r));
  return out;
}

nlohmann::json to_json(const DeviceRow& d) {
  nlohmann::json j = {{"id", d.id}, {"protocol", d.protocol}, {"state", d.state}, {"source", d.source}};
  j["last_good_poll"] = d.last_good_poll_ms ? nlohmann::json(utc_time(d.last_good_poll_ms)) : nlohmann::json();
  j["consecutive_failures"] = d.consecutive_failures ? nlohmann::json(*d.consecutive_failures) : nlohmann::json();
  j["quarantined_until"] = d.quarantined_until_ms ? nlohmann::json(utc_time(d.quarantined_until_ms)) : nlohmann::json();
  if (!d.detail.is_null()) {
    for (const char* k : {"polls", "failures", "last_error"})
      if (d.detail.contains(k)) j[k] = d.detail[k];
  }
  return j;
}

int run_devices(const Context& c, const std::string& state) {
  auto tree = c.get_json("/tree");
  if (!tree.ok()) return fail(tree.error(), c.json());
  std::vector<DeviceRow> rows;
  for (auto& d : collect_devices(c, tree.value()))
    if (state.empty() || d.state == state) rows.push_back(std::move(d));
  if (c.json()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& d : rows) out.push_back(to_json(d));
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> table;
  table.reserve(rows.size());
  for (const auto& d : rows) {
    table.push_back({d.id, d.protocol, d.state, utc_time(d.last_good_poll_ms), opt(d.consecutive_failures),
                     utc_time(d.quarantined_until_ms), d.source});
  }
  print_table({"ID", "PROTOCOL", "STATE", "LAST GOOD POLL", "FAILURES", "QUARANTINED UNTIL", "CONFIG SOURCE"}, table);
  return kExitOk;
}

int run_device_show(const Context& c, const std::string& id) {
  auto tree = c.get_json("/tree");
  if (!tree.ok()) return fail(tree.error(), c.json());
  for (const auto& d : collect_devices(c, tree.value())) {
    if (d.id != id) continue;
    const auto j = to_json(d);
    if (c.json()) {
      std::cout << j.dump(2) << "\n";
      return kExitOk;
    }
    for (const auto& [k, v] : j.items()) std::cout << k << ": " << (v.is_string() ? v.get<std::string>() : v.is_null() ? "-" : v.dump()) << "\n";
    return kExitOk;
  }
  return fail(make_error("ctl.not_found", "no device '" + id + "' (edgepollctl devices lists them)"), c.json());
}

int run_device_action(const Context& c, const std::string& op, const std::string& id) {
  auto answer = c.control({{"op", "device." + std::string(op == "poll-now" ? "poll_now" : op)}, {"device", id}});
  if (!answer.ok()) return fail(answer.error(), c.json());
  const std::string verb = op == "enable" ? "enabled" : op == "disable" ? "disabled" : "polled now";
  return print_answer(answer.value(), c.json(), "device " + id + ": " + verb);
}

}  // namespace edgepoll::ctl
