#include "edgepoll/pollers/snmp/snmp_config.hpp"

#include <array>
#include <utility>

#include "../config_section.hpp"
#include "edgepoll/pollers/secret_file.hpp"

namespace edgepoll::pollers {
namespace {

using detail::lookup;
using detail::name_of;
using detail::Section;

constexpr std::array<std::pair<std::string_view, SnmpVersion>, 3> kVersions{{
    {"1", SnmpVersion::v1},
    {"2c", SnmpVersion::v2c},
    {"3", SnmpVersion::v3},
}};
constexpr std::array<std::pair<std::string_view, SnmpSecurityLevel>, 3> kLevels{{
    {"noAuthNoPriv", SnmpSecurityLevel::no_auth_no_priv},
    {"authNoPriv", SnmpSecurityLevel::auth_no_priv},
    {"authPriv", SnmpSecurityLevel::auth_priv},
}};
constexpr std::array<std::pair<std::string_view, SnmpAuthProtocol>, 6> kAuth{{
    {"MD5", SnmpAuthProtocol::md5},
    {"SHA", SnmpAuthProtocol::sha},
    {"SHA-224", SnmpAuthProtocol::sha224},
    {"SHA-256", SnmpAuthProtocol::sha256},
    {"SHA-384", SnmpAuthProtocol::sha384},
    {"SHA-512", SnmpAuthProtocol::sha512},
}};
constexpr std::array<std::pair<std::string_view, SnmpPrivProtocol>, 4> kPriv{{
    {"AES", SnmpPrivProtocol::aes128},
    {"AES-192", SnmpPrivProtocol::aes192},
    {"AES-256", SnmpPrivProtocol::aes256},
    {"DES", SnmpPrivProtocol::des},
}};
constexpr std::array<std::pair<std::string_view, OctetFormat>, 3> kFormats{{
    {"auto", OctetFormat::automatic},
    {"text", OctetFormat::text},
    {"hex", OctetFormat::hex},
}};

Status parse_oid_key(const Section& s, Oid& out) {
  std::string text;
  EP_TRY(s.string("oid", text, true));
  auto oid = parse_oid(text);
  if (!oid) return s.wrong("oid", "a numeric OID such as \"1.3.6.1.2.1.1.3.0\"");
  out = std::move(*oid);
  return ok_status();
}

// A metric, a table column (`rate` allowed) or a tag (no unit, no rate).
Status parse_field(const Section& s, bool is_tag, SnmpField& f) {
  if (is_tag) EP_TRY(s.only({"name", "oid", "format"}));
  else EP_TRY(s.only({"name", "oid", "format", "rate", "unit"}));
  EP_TRY(s.string("name", f.name, true));
  if (f.name.empty()) return s.wrong("name", "a non-empty name");
  EP_TRY(parse_oid_key(s, f.oid));
  std::string format = "auto";
  EP_TRY(s.string("format", format));
  auto fmt = lookup(kFormats, format);
  if (!fmt) return s.wrong("format", "\"auto\", \"text\" or \"hex\"");
  f.format = *fmt;
  if (!is_tag) {
    EP_TRY(s.boolean("rate", f.rate));
    EP_TRY(s.string("unit", f.unit));
  }
  return ok_status();
}

Status parse_fields(const toml::table& table, std::string_view key, const std::string& where,
                    bool is_tag, bool required, std::vector<SnmpField>& out) {
  const auto* node = table.get(key);
  const auto* arr = node ? node->as_array() : nullptr;
  if (node == nullptr && !required) return ok_status();
  if (arr == nullptr || (required && arr->empty()))
    return make_error("pollers.config.bad_value",
                      fmt::format("{}: key \"{}\" must be {}array of tables", where, key,
                                  required ? "a non-empty " : "an "),
                      false);
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const auto* t = arr->get(i)->as_table();
    const std::string at = fmt::format("{} {}[{}]", where, key, i);
    if (t == nullptr)
      return make_error("pollers.config.bad_value", fmt::format("{} must be a table", at), false);
    SnmpField f;
    EP_TRY(parse_field(Section(*t, at), is_tag, f));
    out.push_back(std::move(f));
  }
  return ok_status();
}

Status parse_table(const toml::table& t, const std::string& at, SnmpTable& table) {
  Section s(t, at);
  EP_TRY(s.only({"name", "index_tag", "max_repetitions", "max_rows", "max_walk_time", "columns",
                 "tags"}));
  EP_TRY(s.string("name", table.name, true));
  if (table.name.empty()) return s.wrong("name", "a non-empty name (the readings' prefix)");
  EP_TRY(s.string("index_tag", table.index_tag));
  if (table.index_tag.empty()) return s.wrong("index_tag", "a non-empty tag name");
  EP_TRY(s.count("max_repetitions", table.max_repetitions, 1, 100));
  EP_TRY(s.count("max_rows", table.max_rows, 1, 100000));
  EP_TRY(s.duration("max_walk_time", table.max_walk_time));
  EP_TRY(parse_fields(t, "columns", at, false, true, table.columns));
  EP_TRY(parse_fields(t, "tags", at, true, false, table.tags));
  return ok_status();
}

}  // namespace

std::string_view snmp_version_name(SnmpVersion v) { return name_of(kVersions, v); }
std::string_view snmp_auth_protocol_name(SnmpAuthProtocol p) { return name_of(kAuth, p); }
std::string_view snmp_priv_protocol_name(SnmpPrivProtocol p) { return name_of(kPriv, p); }

Result<SnmpDeviceConfig> SnmpDeviceConfig::parse(const toml::table& table, const std::string& where) {
  SnmpDeviceConfig c;
  Section s(table, where + " snmp");
  EP_TRY(s.only({"agent", "version", "community_file", "user", "security_level", "auth_protocol",
                 "auth_passphrase_file", "priv_protocol", "priv_passphrase_file", "context",
                 "retries", "max_oids_per_pdu", "metrics", "tables"}));
  EP_TRY(s.host_port("agent", c.host, c.port, "10.0.0.30:161"));
  std::string version;
  EP_TRY(s.string("version", version, true));
  auto v = lookup(kVersions, version);
  if (!v) return s.wrong("version", "\"1\", \"2c\" or \"3\"");
  c.version = *v;
  if (c.version != SnmpVersion::v3) {
    for (const char* key : {"user", "security_level", "auth_protocol", "auth_passphrase_file",
                            "priv_protocol", "priv_passphrase_file", "context"})
      if (s.has(key)) return s.wrong(key, "absent unless version = \"3\" (USM)");
    EP_TRY(s.string("community_file", c.community_file, true));
  } else {
    if (s.has("community_file"))
      return s.wrong("community_file", "absent for version = \"3\" (it has users, not communities)");
    EP_TRY(s.string("user", c.user, true));
    if (c.user.empty()) return s.wrong("user", "a non-empty USM user name");
    std::string level;
    EP_TRY(s.string("security_level", level, true));
    auto l = lookup(kLevels, level);
    if (!l) return s.wrong("security_level", "\"noAuthNoPriv\", \"authNoPriv\" or \"authPriv\"");
    c.security_level = *l;
    const bool auth = c.security_level != SnmpSecurityLevel::no_auth_no_priv;
    const bool priv = c.security_level == SnmpSecurityLevel::auth_priv;
    for (const char* key : {"auth_protocol", "auth_passphrase_file"})
      if (!auth && s.has(key)) return s.wrong(key, "absent for security_level = \"noAuthNoPriv\"");
    for (const char* key : {"priv_protocol", "priv_passphrase_file"})
      if (!priv && s.has(key)) return s.wrong(key, "absent unless security_level = \"authPriv\"");
    if (auth) {
      std::string name;
      EP_TRY(s.string("auth_protocol", name, true));
      auto p = lookup(kAuth, name);
      if (!p) return s.wrong("auth_protocol", "one of MD5, SHA, SHA-224, SHA-256, SHA-384, SHA-512");
      c.auth_protocol = *p;
      EP_TRY(s.string("auth_passphrase_file", c.auth_passphrase_file, true));
    }
    if (priv) {
      std::string name;
      EP_TRY(s.string("priv_protocol", name, true));
      auto p = lookup(kPriv, name);
      if (!p) return s.wrong("priv_protocol", "one of AES, AES-192, AES-256, DES");
      c.priv_protocol = *p;
      EP_TRY(s.string("priv_passphrase_file", c.priv_passphrase_file, true));
    }
    EP_TRY(s.string("context", c.context));
  }
  EP_TRY(s.count("retries", c.retries, 0, 10));
  EP_TRY(s.count("max_oids_per_pdu", c.max_oids_per_pdu, 1, 128));
  EP_TRY(parse_fields(table, "metrics", where + " snmp", false, false, c.metrics));
  if (const auto* node = table.get("tables")) {
    const auto* arr = node->as_array();
    if (arr == nullptr) return s.wrong("tables", "an array of tables ([[device.snmp.tables]])");
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const auto* t = arr->get(i)->as_table();
      const std::string at = fmt::format("{} snmp tables[{}]", where, i);
      if (t == nullptr)
        return make_error("pollers.config.bad_value", fmt::format("{} must be a table", at), false);
      SnmpTable tb;
      EP_TRY(parse_table(*t, at, tb));
      c.tables.push_back(std::move(tb));
    }
  }
  if (c.metrics.empty() && c.tables.empty())
    return s.wrong("metrics", "present: a device reads [[device.snmp.metrics]] or [[device.snmp.tables]]");
  return c;
}

Result<SnmpSecrets> load_snmp_secrets(const SnmpDeviceConfig& c, const std::string& device_id) {
  SnmpSecrets out;
  const auto read = [&device_id](const std::string& path, std::string& into) -> Status {
    if (path.empty()) return ok_status();
    auto secret = read_secret_file(path, device_id);
    if (!secret) return secret.take_error();
    into = std::move(secret.value());
    return ok_status();
  };
  EP_TRY(read(c.community_file, out.community));
  EP_TRY(read(c.auth_passphrase_file, out.auth_passphrase));
  EP_TRY(read(c.priv_passphrase_file, out.priv_passphrase));
  // USM derives keys from passphrases of 8 characters or more (RFC 3414 11.2).
  for (const auto* p : {&out.auth_passphrase, &out.priv_passphrase})
    if (!p->empty() && p->size() < 8)
      return make_error("pollers.config.secret_too_short",
                        fmt::format("device \"{}\": an SNMPv3 passphrase file holds fewer than 8 "
                                    "characters (USM needs at least 8)",
                                    device_id),
                        false);
  return out;
}

}  // namespace edgepoll::pollers
