#include "edgepoll/appliance/registration_config.hpp"

#include <initializer_list>

#include "edgepoll/pollers/duration.hpp"
#include "edgepoll/supervision/config_keys.hpp"

namespace edgepoll::appliance {

namespace {

std::string at(const char* key, const toml::node_view<const toml::node>& n) {
  return std::string("[registration] ") + key + " (line " +
         std::to_string(n.node()->source().begin.line) + ")";
}

Error bad(const char* key, const toml::node_view<const toml::node>& n,
          const std::string& expected) {
  return make_error("config.value", at(key, n) + ": expected " + expected, false);
}

Result<std::vector<std::string>> strings(const char* key,
                                         const toml::node_view<const toml::node>& n) {
  const auto* arr = n.as_array();
  if (!arr) return bad(key, n, "an array of strings");
  std::vector<std::string> out;
  for (const auto& e : *arr) {
    if (!e.is_string() || e.value<std::string>()->empty())
      return bad(key, n, "an array of non-empty strings");
    out.push_back(*e.value<std::string>());
  }
  return out;
}

Result<supervision::Duration> duration(const char* key,
                                       const toml::node_view<const toml::node>& n) {
  const auto text = n.value<std::string>();
  if (!text) return bad(key, n, "a duration like \"10s\"");
  auto d = pollers::parse_duration(*text, at(key, n));
  if (!d.ok()) return d.take_error();
  if (d.value() <= supervision::Duration::zero()) return bad(key, n, "a positive duration");
  return d.value();
}

}  // namespace

Result<RegistrationConfig> RegistrationConfig::parse(const toml::table& t) {
  if (auto s = reject_unknown_keys(
          t, "[registration]",
          std::initializer_list<std::string_view>{"endpoints", "prefix", "ttl", "deregister_after",
                                                  "reregister_after", "watch", "advertise"});
      !s.ok()) {
    return s.take_error();
  }
  RegistrationConfig c;
  auto n = t["endpoints"];
  if (!n) {
    return make_error("config.value",
                      "[registration] endpoints: required (a list of etcd client URLs)", false,
                      "e.g. endpoints = [\"http://127.0.0.1:2379\"]");
  }
  auto endpoints = strings("endpoints", n);
  if (!endpoints.ok()) return endpoints.take_error();
  if (endpoints->empty()) return bad("endpoints", n, "at least one etcd client URL");
  for (const auto& e : *endpoints) {
    if (e.rfind("http://", 0) != 0 && e.rfind("https://", 0) != 0)
      return bad("endpoints", n, "URLs starting with http:// or https:// (got \"" + e + "\")");
  }
  c.endpoints = std::move(endpoints.value());

  if (auto p = t["prefix"]; p) {
    const auto v = p.value<std::string>();
    if (!v || v->empty() || v->front() != '/' || v->back() == '/')
      return bad("prefix", p,
                 "a key prefix starting with '/' and not ending with '/', like \"/edgepoll\"");
    c.prefix = *v;
  }
  if (auto p = t["ttl"]; p) {
    auto d = duration("ttl", p);
    if (!d.ok()) return d.take_error();
    // etcd counts leases in whole seconds and raises anything shorter than its
    // minimum (about 2 s with default timing) without saying so.
    if (d.value() < std::chrono::seconds(2) ||
        d.value() % std::chrono::seconds(1) != supervision::Duration::zero())
      return bad("ttl", p, "whole seconds, at least \"2s\"");
    c.ttl = std::chrono::duration_cast<std::chrono::seconds>(d.value());
  }
  for (auto [key, out] : {std::pair{"deregister_after", &c.deregister_after},
                          std::pair{"reregister_after", &c.reregister_after}}) {
    if (auto p = t[key]; p) {
      auto d = duration(key, p);
      if (!d.ok()) return d.take_error();
      *out = d.value();
    }
  }
  if (auto p = t["watch"]; p) {
    auto w = strings("watch", p);
    if (!w.ok()) return w.take_error();
    for (const auto& path : *w) {
      if (path.rfind("root", 0) != 0)
        return bad("watch", p, "tree paths like \"root/deps\" (got \"" + path + "\")");
    }
    c.watch = std::move(w.value());
  }
  if (auto p = t["advertise"]; p) {
    const auto v = p.value<std::string>();
    if (!v || v->empty())
      return bad("advertise", p, "the address others should use, like \"10.0.0.17:8470\"");
    c.advertise = *v;
  }
  return c;
}

}  // namespace edgepoll::appliance
