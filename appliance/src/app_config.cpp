#include "edgepoll/appliance/app_config.hpp"

#include <fstream>
#include <set>
#include <sstream>

#include "edgepoll/supervision/config_keys.hpp"
#include "edgepoll/pollers/duration.hpp"

namespace edgepoll::appliance {

namespace {
Error in_file(const std::string& source, Error e) {
  e.message = source + ": " + e.message;
  return e;
}
}  // namespace

Result<PollersConfig> PollersConfig::parse(const toml::table& t) {
  if (auto s = reject_unknown_keys(t, "[pollers]", std::initializer_list<std::string_view>{
                                                     "backoff_base", "backoff_cap", "stable_after", "max_consecutive_failures"});
      !s.ok()) {
    return s.take_error();
  }
  PollersConfig c;
  auto duration = [&](const char* key, supervision::Duration& out) -> Status {
    auto n = t[key];
    if (!n) return ok_status();
    auto text = n.value<std::string>();
    if (!text) return make_error("config.type", std::string("[pollers] ") + key + ": expected a duration like \"10s\"");
    auto d = pollers::parse_duration(*text, std::string("[pollers] ") + key);
    if (!d.ok()) return d.take_error();
    out = d.value();
    return ok_status();
  };
  for (auto [key, out] : {std::pair{"backoff_base", &c.manager.backoff_base},
                          std::pair{"backoff_cap", &c.manager.backoff_cap},
                          std::pair{"stable_after", &c.manager.stable_after}}) {
    if (auto s = duration(key, *out); !s.ok()) return s.take_error();
  }
  if (auto n = t["max_consecutive_failures"]; n) {
    auto v = n.value<std::int64_t>();
    if (!v || *v < 1 || *v > 1000) {
      return make_error("config.type", "[pollers] max_consecutive_failures: expected an integer 1..1000");
    }
    c.max_consecutive_failures = static_cast<unsigned>(*v);
  }
  if (c.manager.backoff_base > c.manager.backoff_cap) {
    return make_error("config.value", "[pollers] backoff_base must not exceed backoff_cap");
  }
  return c;
}

Result<AppConfig> AppConfig::parse(std::string_view text, const std::string& source) {
  toml::table root;
  try {
    root = toml::parse(text, source);  // Debian's toml++ reports syntax errors by exception
  } catch (const toml::parse_error& e) {
    return make_error("config.syntax",
                      source + ":" + std::to_string(e.source().begin.line) + ":" +
                          std::to_string(e.source().begin.column) + ": " + std::string(e.description()),
                      false, "fix the TOML syntax at that line");
  }
  if (auto s = reject_unknown_keys(root, "top level", std::initializer_list<std::string_view>{"node", "storage", "health", "pollers", "device", "kafka", "registration", "control", "chaos"}); !s.ok()) {
    return in_file(source, s.take_error());
  }
  AppConfig c;
  c.source = source;
  auto section = [&](const char* name) -> const toml::table* { return root[name].as_table(); };
  if (const auto* t = section("node")) {
    auto n = NodeConfig::parse(*t);
    if (!n.ok()) return in_file(source, n.take_error());
    c.node = std::move(n.value());
  }
  if (const auto* t = section("storage")) {
    auto s = storage::StoreConfig::parse(*t);
    if (!s.ok()) return in_file(source, s.take_error());
    c.storage = std::move(s.value());
  }
  if (const auto* t = section("kafka")) {
    auto k = kafka::KafkaConfig::parse(*t);
    if (!k.ok()) return in_file(source, k.take_error());
    c.kafka = std::move(k.value());
  }
  if (const auto* t = section("health")) {
    auto h = HealthConfig::parse(*t);
    if (!h.ok()) return in_file(source, h.take_error());
    c.health = std::move(h.value());
  }
  if (const auto* t = section("control")) {
    auto k = ControlConfig::parse(*t);
    if (!k.ok()) return in_file(source, k.take_error());
    c.control = std::move(k.value());
  }
  if (const auto* t = section("registration")) {
    auto r = RegistrationConfig::parse(*t);
    if (!r.ok()) return in_file(source, r.take_error());
    c.registration = std::move(r.value());
  }
  if (const auto* t = section("chaos")) {
    auto k = ChaosConfig::parse(*t);
    if (!k.ok()) return in_file(source, k.take_error());
    c.chaos = k.value();
  }
  if (const auto* t = section("pollers")) {
    auto p = PollersConfig::parse(*t);
    if (!p.ok()) return in_file(source, p.take_error());
    c.pollers = std::move(p.value());
  }
  if (auto devices = root["device"]; devices) {
    const auto* arr = devices.as_array();
    if (!arr) return make_error("config.type", source + ": 'device' must be an array of tables: [[device]]");
    std::set<std::string> ids;
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const auto* t = (*arr)[i].as_table();
      if (!t) return make_error("config.type", source + ": [[device]] #" + std::to_string(i + 1) + " is not a table");
      auto d = pollers::DeviceConfig::parse(*t);
      if (!d.ok()) {
        Error e = d.take_error();
        e.message = "[[device]] #" + std::to_string(i + 1) + " (line " + std::to_string(t->source().begin.line) +
                    "): " + e.message;
        return in_file(source, e);
      }
      if (!ids.insert(d->id).second) {
        return make_error("config.value", source + ": two [[device]] tables have id \"" + d->id + "\"");
      }
      c.devices.push_back(std::move(d.value()));
    }
  }
  return c;
}

Result<AppConfig> AppConfig::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return make_error("config.unreadable", path + ": cannot read the config file", false,
                      "check that it exists and that the edgepoll user may read it");
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse(buffer.str(), path);
}

}  // namespace edgepoll::appliance
