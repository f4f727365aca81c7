// edgepollctl status / tree.
#include <iostream>
#include <map>
#include <regex>

#include <fmt/format.h>

#include "commands.hpp"
#include "edgepoll/storage/reader.hpp"
#include "edgepoll/supervision/clock.hpp"
#include "output.hpp"

namespace edgepoll::ctl {

namespace {

// The version label of edgepoll_build_info in /metrics, "" when absent.
std::string running_version(const std::string& metrics) {
  static const std::regex re("\nedgepoll_build_info\\{version=\"([^\"]*)\"\\}");
  std::smatch m;
  return std::regex_search(metrics, m, re) ? m[1].str() : "";
}

// A node's own fields (what it describes), without its children.
nlohmann::json own_fields(const nlohmann::json& node) {
  nlohmann::json out = node;
  out.erase("children");
  return out;
}

nlohmann::json outbox_status(const Context& c) {
  auto reader = storage::Reader::open(c.config().storage);
  if (!reader.ok()) return {{"error", reader.error().describe()}};
  auto depth = reader->outbox_depth();
  if (!depth.ok()) return {{"error", depth.error().describe()}};
  nlohmann::json out = {{"readings", depth->readings}, {"database_bytes", depth->database_bytes}};
  if (depth->oldest_timestamp_ms) {
    out["oldest"] = utc_time(depth->oldest_timestamp_ms);
    out["oldest_age_s"] = (supervision::wall_clock_ms() - *depth->oldest_timestamp_ms) / 1000;
  } else {
    out["oldest"] = nullptr;
  }
  if (auto letters = reader->dead_letters(100000); letters.ok()) out["dead_letters"] = letters->size();
  return out;
}

void draw(const nlohmann::json& node, const std::string& prefix, bool last, bool top) {
  std::string line = top ? "" : prefix + (last ? "└── " : "├── ");
  line += node.value("id", "?");
  const std::string type = node.value("type", "?");
  if (node.contains("strategy")) {
    const auto& n = node["counts"];
    line += fmt::format("  {} {}/{} children", node["strategy"].get<std::string>(), n.value("active", 0),
                        n.value("specs", 0));
    line += fmt::format(" (intensity {} in {}s, {} restarts in window)", node.value("intensity", 0),
                        node.value("period", 0), node.value("restarts_in_window", 0));
  } else {
    line += "  " + type;
  }
  const std::string state = node.value("state", "?");
  if (state != "running") line += "  [" + state + "]";
  if (node.contains("device_state")) line += "  " + node["device_state"].get<std::string>();
  if (node.contains("restart") && node["restart"] != "permanent") line += "  (" + node["restart"].get<std::string>() + ")";
  std::cout << line << "\n";
  if (!node.contains("children")) return;
  const auto& children = node["children"];
  for (std::size_t i = 0; i < children.size(); ++i) {
    draw(children[i], top ? "" : prefix + (last ? "    " : "│   "), i + 1 == children.size(), false);
  }
}

}  // namespace

int run_status(const Context& c) {
  auto ready = c.get_json("/ready", /*accept_503=*/true);
  if (!ready.ok()) return fail(ready.error(), c.json());
  auto tree = c.get_json("/tree");
  if (!tree.ok()) return fail(tree.error(), c.json());
  auto metrics = c.get_text("/metrics");
  const bool is_ready = ready->value("ready", false);

  std::map<std::string, int> by_state;
  const auto devices = collect_devices(c, tree.value());
  for (const auto& d : devices) ++by_state[d.state];
  nlohmann::json status = {{"ready", is_ready}, {"readiness", ready.value()}};
  status["version"] = metrics.ok() ? running_version(metrics.value()) : "";
  status["devices"] = {{"total", devices.size()}, {"by_state", by_state}};
  status["outbox"] = outbox_status(c);
  const auto* kafka = find_node(tree.value(), "root/deps/kafka_pool");
  status["kafka"] = kafka ? nlohmann::json::object() : nlohmann::json();
  if (kafka) {
    for (const auto& child : kafka->value("children", nlohmann::json::array()))
      status["kafka"][child.value("id", "?")] = own_fields(child);
  }
  // Registration (service discovery): what /ready says of it, else its
  // process in the tree when there is one.
  nlohmann::json registration = ready->value("registration", nlohmann::json());
  std::function<void(const nlohmann::json&)> look = [&](const nlohmann::json& n) {
    if (registration.is_null() && n.value("id", "") == "registration") registration = own_fields(n);
    for (const auto& ch : n.value("children", nlohmann::json::array())) look(ch);
  };
  look(tree.value());
  status["registration"] = registration;

  if (c.json()) {
    std::cout << status.dump(2) << "\n";
    return is_ready ? kExitOk : kExitNotOk;
  }
  std::cout << "edgepolld " << (status["version"].get<std::string>().empty() ? "?" : status["version"].get<std::string>())
            << ": " << (is_ready ? "ready" : "NOT READY") << "\n";
  for (const auto& [k, v] : ready->items()) {
    if (k == "ready" || k == "registration") continue;
    if (k == "checks" && v.is_object()) {  // {"name": {"ok": bool, measurements...}}
      for (const auto& [name, check] : v.items()) {
        nlohmann::json values = check;
        values.erase("ok");
        std::cout << "  check " << name << ": " << (check.value("ok", false) ? "ok" : "FAILING") << " "
                  << values.dump() << "\n";
      }
      continue;
    }
    std::cout << "  " << k << ": " << (v.is_string() ? v.get<std::string>() : v.dump()) << "\n";
  }
  std::string states;
  for (const auto& [s, n] : by_state) states += fmt::format("{}{} {}", states.empty() ? "" : ", ", n, s);
  std::cout << "devices: " << devices.size() << (states.empty() ? "" : " (" + states + ")") << "\n";
  const auto& ob = status["outbox"];
  if (ob.contains("error")) {
    std::cout << "outbox: unreadable: " << ob["error"].get<std::string>() << "\n";
  } else {
    std::cout << "outbox: " << ob["readings"].get<std::int64_t>() << " readings";
    if (!ob["oldest"].is_null()) std::cout << ", oldest " << age(ob["oldest_age_s"].get<std::int64_t>() * 1000) << " old";
    std::cout << ", " << ob.value("dead_letters", 0) << " dead letters\n";
  }
  if (!kafka) {
    std::cout << "kafka: not configured\n";
  } else {
    for (const auto& [id, f] : status["kafka"].items()) {
      std::cout << "kafka " << id << ": " << f.value("state", "?");
      for (const char* k : {"delivered", "dead_lettered", "in_flight", "caught_up"})
        if (f.contains(k)) std::cout << ", " << k << " " << f[k].dump();
      std::cout << "\n";
    }
  }
  if (registration.is_null()) std::cout << "registration: not reported (neither /ready nor /tree has it)\n";
  else if (registration.contains("state")) {
    std::cout << "registration: " << registration["state"].get<std::string>();
    if (registration.contains("key")) std::cout << " " << registration["key"].get<std::string>();
    if (registration.contains("reason")) std::cout << " (" << registration["reason"].get<std::string>() << ")";
    std::cout << "\n";
  } else {
    std::cout << "registration: " << registration.dump() << "\n";
  }
  return is_ready ? kExitOk : kExitNotOk;
}

int run_tree(const Context& c) {
  auto tree = c.get_json("/tree");
  if (!tree.ok()) return fail(tree.error(), c.json());
  if (c.json()) std::cout << tree->dump(2) << "\n";
  else draw(tree.value(), "", true, true);
  return kExitOk;
}

}  // namespace edgepoll::ctl
