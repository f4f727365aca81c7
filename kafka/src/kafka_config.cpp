#include "edgepoll/kafka/kafka_config.hpp"

#include "edgepoll/supervision/config_keys.hpp"

#include <fstream>
#include <sstream>
#include <string_view>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace edgepoll::kafka {
namespace {

constexpr std::string_view kKeys[] = {
    "bootstrap_servers", "default_topic",    "topics",         "compression",
    "max_in_flight",     "fetch_batch",      "drain_rate",     "retry_base_ms",
    "retry_cap_ms",      "message_timeout_ms", "commands_topic", "dead_letter_topic",
    "group_id",          "security",         "properties",     "secret_files",
    "command_attempts",  "command_retry_base_ms", "command_retry_cap_ms"};
constexpr std::string_view kCompressions[] = {"none", "gzip", "snappy", "lz4", "zstd"};

Error wrong(std::string_view key, std::string_view expected) {
  return make_error("kafka.config.invalid",
                    fmt::format("[kafka] key \"{}\": expected {}", key, expected), false,
                    "correct the value in the configuration file");
}

Status text(const toml::table& t, std::string_view key, std::string& out) {
  const auto* node = t.get(key);
  if (node == nullptr) return ok_status();
  const auto* v = node->as_string();
  if (v == nullptr || v->get().empty()) return wrong(key, "a non-empty string");
  out = v->get();
  return ok_status();
}

template <class Out>
Status number(const toml::table& t, std::string_view key, Out& out, std::int64_t min) {
  const auto* node = t.get(key);
  if (node == nullptr) return ok_status();
  const auto* v = node->as_integer();
  if (v == nullptr || v->get() < min) return wrong(key, fmt::format("an integer >= {}", min));
  out = Out(v->get());
  return ok_status();
}

// A sub-table of string values, e.g. [kafka.security] or [kafka.topics].
Status string_map(const toml::table& t, std::string_view key,
                  std::map<std::string, std::string>& out) {
  const auto* node = t.get(key);
  if (node == nullptr) return ok_status();
  const auto* sub = node->as_table();
  if (sub == nullptr) return wrong(key, "a table of strings");
  for (const auto& [k, v] : *sub) {
    const auto* s = v.as_string();
    if (s == nullptr)
      return wrong(fmt::format("{}.{}", key, k.str()), "a string");
    out[std::string(k.str())] = s->get();
  }
  return ok_status();
}

Result<std::string> read_secret(const std::string& property, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return make_error("kafka.config.secret_unreadable",
                      fmt::format("[kafka.secret_files] \"{}\": cannot read file {}", property,
                                  path),
                      false, "create the file, readable by the edgepoll user");
  std::ostringstream s;
  s << in.rdbuf();
  std::string value = s.str();
  // Files written with `echo` end in a newline that is not part of the secret.
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
  return value;
}

// A secret written inline in [kafka.security] (instead of [kafka.secret_files])
// is still kept out of describe().
bool looks_secret(std::string_view property) {
  for (std::string_view word : {"password", "secret", "key", "token"})
    if (property.find(word) != std::string_view::npos) return true;
  return false;
}

}  // namespace

Result<KafkaConfig> KafkaConfig::parse(const toml::table& t) {
  KafkaConfig c;
  if (auto known = reject_unknown_keys(t, "[kafka]", kKeys, "kafka.config.unknown_key"); !known.ok()) {
    return known.take_error();
  }
  if (const auto* node = t.get("drain_rate")) {
    auto v = node->value<double>();  // integers convert too
    if (!v || *v < 0) return wrong("drain_rate", "a number of records/s >= 0 (0 = unpaced)");
    c.drain_rate = *v;
  }
  Status checks[] = {
      text(t, "bootstrap_servers", c.bootstrap_servers),
      text(t, "default_topic", c.default_topic),
      text(t, "compression", c.compression),
      number(t, "max_in_flight", c.max_in_flight, 1),
      number(t, "fetch_batch", c.fetch_batch, 1),
      number(t, "retry_base_ms", c.retry_base, 1),
      number(t, "retry_cap_ms", c.retry_cap, 1),
      number(t, "message_timeout_ms", c.message_timeout, 1),
      text(t, "commands_topic", c.commands_topic),
      text(t, "dead_letter_topic", c.dead_letter_topic),
      text(t, "group_id", c.group_id),
      number(t, "command_attempts", c.command_attempts, 1),
      number(t, "command_retry_base_ms", c.command_retry_base, 1),
      number(t, "command_retry_cap_ms", c.command_retry_cap, 1),
      string_map(t, "topics", c.topics),
      string_map(t, "security", c.security),
      string_map(t, "properties", c.properties),
      string_map(t, "secret_files", c.secret_files),
  };
  for (auto& s : checks)
    if (!s) return s.take_error();
  bool known_compression = false;
  for (auto k : kCompressions) known_compression = known_compression || c.compression == k;
  if (!known_compression)
    return wrong("compression", fmt::format("one of {}", fmt::join(kCompressions, ", ")));
  if (c.retry_cap < c.retry_base) return wrong("retry_cap_ms", "a value >= retry_base_ms");
  if (c.command_retry_cap < c.command_retry_base)
    return wrong("command_retry_cap_ms", "a value >= command_retry_base_ms");
  for (const auto& [property, path] : c.secret_files) {
    auto secret = read_secret(property, path);
    if (!secret) return secret.take_error();
    c.secrets[property] = std::move(*secret);
  }
  return c;
}

std::string KafkaConfig::commands_group() const {
  return node_id.empty() ? group_id : group_id + "." + node_id;
}

const std::string& KafkaConfig::topic_for_group(const std::string& group) const {
  auto it = topics.find(group);
  return it == topics.end() ? default_topic : it->second;
}

std::map<std::string, std::string> KafkaConfig::client_properties() const {
  std::map<std::string, std::string> p = properties;
  for (const auto& [k, v] : security) p[k] = v;
  for (const auto& [k, v] : secrets) p[k] = v;
  p["bootstrap.servers"] = bootstrap_servers;
  return p;
}

std::string KafkaConfig::describe() const {
  std::string s = fmt::format(
      "bootstrap={} default_topic={} compression={} max_in_flight={} drain_rate={}/s "
      "commands_topic={} dead_letter_topic={} commands_group={} command_attempts={}",
      bootstrap_servers, default_topic, compression, max_in_flight, drain_rate,
      commands_topic, dead_letter_topic, commands_group(), command_attempts);
  for (const auto& [group, topic] : topics) s += fmt::format(" topic[{}]={}", group, topic);
  for (const auto& [k, v] : security)
    s += fmt::format(" {}={}", k, looks_secret(k) ? "<redacted>" : v);
  for (const auto& [k, path] : secret_files) s += fmt::format(" {}=<secret from {}>", k, path);
  return s;
}

}  // namespace edgepoll::kafka
