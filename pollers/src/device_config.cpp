#include "edgepoll/pollers/device_config.hpp"

#include "edgepoll/supervision/config_keys.hpp"

#include <cctype>
#include <initializer_list>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "config_section.hpp"
#include "edgepoll/pollers/duration.hpp"
#include "edgepoll/pollers/secret_file.hpp"

namespace edgepoll::pollers {
namespace {

using detail::Section;

bool valid_id(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      return false;
  return true;
}

Status parse_auth(const Section& dev, AuthConfig& out) {
  auto t = dev.table("auth");
  if (!t) return t.take_error();
  if (*t == nullptr) return ok_status();
  Section s(**t, dev.where() + " auth");
  EP_TRY(s.only({"type", "username", "password_file", "token_file"}));
  std::string type = "none";
  EP_TRY(s.string("type", type, true));
  if (type == "none") {
    out.kind = AuthKind::none;
  } else if (type == "basic") {
    out.kind = AuthKind::basic;
    EP_TRY(s.string("username", out.username, true));
    EP_TRY(s.string("password_file", out.password_file, true));
  } else if (type == "bearer") {
    out.kind = AuthKind::bearer;
    EP_TRY(s.string("token_file", out.token_file, true));
  } else {
    return s.wrong("type", "\"none\", \"basic\" or \"bearer\"");
  }
  return ok_status();
}

Status parse_metrics(const toml::table& table, const std::string& where,
                     std::vector<MetricMapping>& out) {
  const auto* node = table.get("metrics");
  if (node == nullptr) return ok_status();
  const auto* arr = node->as_array();
  if (arr == nullptr)
    return make_error("pollers.config.bad_value",
                      fmt::format("{}: key \"metrics\" must be an array of tables", where));
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const auto* t = arr->get(i)->as_table();
    const std::string at = fmt::format("{} metrics[{}]", where, i);
    if (t == nullptr)
      return make_error("pollers.config.bad_value", fmt::format("{} must be a table", at));
    Section s(*t, at);
    EP_TRY(s.only({"pointer", "name", "type", "unit"}));
    MetricMapping m;
    std::string type = "float";
    EP_TRY(s.string("pointer", m.pointer, true));
    EP_TRY(s.string("name", m.name, true));
    EP_TRY(s.string("type", type));
    EP_TRY(s.string("unit", m.unit));
    if (!m.pointer.empty() && m.pointer.front() != '/')
      return s.wrong("pointer", "a JSON pointer starting with \"/\" (RFC 6901)");
    if (m.name.empty()) return s.wrong("name", "a non-empty metric name");
    auto mt = parse_metric_type(type);
    if (!mt) return s.wrong("type", "one of float, int, bool, string");
    m.type = *mt;
    out.push_back(std::move(m));
  }
  return ok_status();
}

// The keys of the device's protocol: HTTP's at the top level of the device
// table (url, auth, metrics with JSON pointers ...), Modbus's in [device.modbus].
Status parse_protocol_tables(const Section& s, const toml::table& table, DeviceConfig& c) {
  std::string protocol = "http";
  EP_TRY(s.string("protocol", protocol));
  const auto p = parse_protocol(protocol);
  if (!p) return s.wrong("protocol", "\"http\", \"modbus\" or \"snmp\"");
  c.protocol = *p;
  if (c.protocol == Protocol::snmp) {
    for (const char* key : {"url", "max_body", "verify_tls", "ca_file", "auth", "metrics", "modbus"})
      if (s.has(key)) return s.wrong(key, "absent for protocol = \"snmp\" (its metrics go in [device.snmp])");
    auto t = s.table("snmp");
    if (!t) return t.take_error();
    if (*t == nullptr) return s.missing("snmp");
    auto snmp = SnmpDeviceConfig::parse(**t, s.where());
    if (!snmp) return snmp.take_error();
    c.snmp = std::move(snmp.value());
    return ok_status();
  }
  if (s.has("snmp")) return s.wrong("snmp", "absent unless protocol = \"snmp\"");
  if (c.protocol == Protocol::modbus) {
    for (const char* key : {"url", "max_body", "verify_tls", "ca_file", "auth", "metrics"})
      if (s.has(key)) return s.wrong(key, "absent for protocol = \"modbus\" (its metrics go in [device.modbus])");
    auto m = s.table("modbus");
    if (!m) return m.take_error();
    if (*m == nullptr) return s.missing("modbus");
    auto modbus = ModbusDeviceConfig::parse(**m, s.where());
    if (!modbus) return modbus.take_error();
    c.modbus = std::move(modbus.value());
    return ok_status();
  }
  if (s.has("modbus")) return s.wrong("modbus", "absent unless protocol = \"modbus\"");
  EP_TRY(s.string("url", c.url, true));
  if (c.url.rfind("http://", 0) != 0 && c.url.rfind("https://", 0) != 0)
    return s.wrong("url", "an http:// or https:// URL");
  EP_TRY(s.count("max_body", c.max_body, 1));
  EP_TRY(s.boolean("verify_tls", c.verify_tls));
  EP_TRY(s.string("ca_file", c.ca_file));
  EP_TRY(parse_auth(s, c.auth));
  return parse_metrics(table, s.where(), c.metrics);
}

}  // namespace

Result<DeviceConfig> DeviceConfig::parse(const toml::table& table) {
  DeviceConfig c;
  {
    Section anonymous(table, "device");
    EP_TRY(anonymous.string("id", c.id, true));
    if (!valid_id(c.id))
      return anonymous.wrong("id", "1-128 characters of [A-Za-z0-9._-]");
  }
  Section s(table, fmt::format("device \"{}\"", c.id));
  EP_TRY(s.only({"id", "protocol", "url", "interval", "timeout", "max_body", "verify_tls", "ca_file", "auth",
                 "intensity", "breaker", "metrics", "modbus", "snmp"}));
  EP_TRY(parse_protocol_tables(s, table, c));
  EP_TRY(s.duration("interval", c.interval));
  EP_TRY(s.duration("timeout", c.timeout));

  auto intensity = s.table("intensity");
  if (!intensity) return intensity.take_error();
  if (*intensity != nullptr) {
    Section i(**intensity, s.where() + " intensity");
    EP_TRY(i.only({"max_restarts", "period"}));
    EP_TRY(i.count("max_restarts", c.intensity.max_restarts));
    EP_TRY(i.duration("period", c.intensity.period));
  }
  auto breaker = s.table("breaker");
  if (!breaker) return breaker.take_error();
  if (*breaker != nullptr) {
    Section b(**breaker, s.where() + " breaker");
    EP_TRY(b.only({"failures", "open_for", "max_open_for", "slow_latency", "slow_count",
                   "max_slowdown"}));
    EP_TRY(b.count("failures", c.breaker.failure_threshold, 1));
    EP_TRY(b.duration("open_for", c.breaker.open_for));
    EP_TRY(b.duration("max_open_for", c.breaker.max_open_for));
    EP_TRY(b.duration("slow_latency", c.breaker.slow_latency));
    EP_TRY(b.count("slow_count", c.breaker.slow_count, 1));
    unsigned max_slowdown = 16;
    EP_TRY(b.count("max_slowdown", max_slowdown, 1));
    c.breaker.max_slowdown = max_slowdown;
  }
  return c;
}

Result<Auth> load_auth(const AuthConfig& config, const std::string& device_id) {
  Auth auth{config.kind, config.username, {}};
  if (config.kind == AuthKind::none) return auth;
  const std::string& path =
      config.kind == AuthKind::basic ? config.password_file : config.token_file;
  auto secret = read_secret_file(path, device_id);
  if (!secret) return secret.take_error();
  auth.secret = std::move(secret.value());
  return auth;
}

}  // namespace edgepoll::pollers
