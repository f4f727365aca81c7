#pragma once
// Typed reads out of one TOML config table, naming the device and the key in
// every error; shared by the device table and each protocol's table.
#include <array>
#include <charconv>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "edgepoll/pollers/duration.hpp"
#include "edgepoll/supervision/config_keys.hpp"
#include "edgepoll/supervision/result.hpp"

namespace edgepoll::pollers::detail {

// Config words and the enum values they name, e.g. {"holding", ModbusTable::holding}.
template <class E, std::size_t N>
std::optional<E> lookup(const std::array<std::pair<std::string_view, E>, N>& names,
                        std::string_view s) {
  for (const auto& [n, v] : names)
    if (n == s) return v;
  return std::nullopt;
}
template <class E, std::size_t N>
std::string_view name_of(const std::array<std::pair<std::string_view, E>, N>& names, E e) {
  for (const auto& [n, v] : names)
    if (v == e) return n;
  return "?";
}

// Reads typed keys out of one TOML table, naming the device and the key in every
// error. `where` is e.g. `device "boiler-1"` or `device "boiler-1" auth`.
class Section {
 public:
  Section(const toml::table& table, std::string where) : t_(table), where_(std::move(where)) {}

  Status only(std::initializer_list<std::string_view> allowed) const {
    return reject_unknown_keys(t_, where_, allowed, "pollers.config.unknown_key");
  }

  Status string(std::string_view key, std::string& out, bool required = false) const {
    const auto* node = t_.get(key);
    if (node == nullptr) return required ? missing(key) : ok_status();
    const auto* v = node->as_string();
    if (v == nullptr) return wrong(key, "a string");
    out = v->get();
    return ok_status();
  }

  Status boolean(std::string_view key, bool& out) const {
    const auto* node = t_.get(key);
    if (node == nullptr) return ok_status();
    const auto* v = node->as_boolean();
    if (v == nullptr) return wrong(key, "true or false");
    out = v->get();
    return ok_status();
  }

  template <class Unsigned>
  Status count(std::string_view key, Unsigned& out, std::int64_t min = 0,
               std::int64_t max = std::numeric_limits<std::int64_t>::max(), bool required = false) const {
    const auto* node = t_.get(key);
    if (node == nullptr) return required ? missing(key) : ok_status();
    const auto* v = node->as_integer();
    if (v == nullptr || v->get() < min || v->get() > max)
      return wrong(key, max == std::numeric_limits<std::int64_t>::max()
                            ? fmt::format("an integer >= {}", min)
                            : fmt::format("an integer from {} to {}", min, max));
    out = static_cast<Unsigned>(v->get());
    return ok_status();
  }

  // A float or an integer (scale = 10 and scale = 10.0 mean the same).
  Status number(std::string_view key, double& out) const {
    const auto* node = t_.get(key);
    if (node == nullptr) return ok_status();
    if (const auto* f = node->as_floating_point()) out = f->get();
    else if (const auto* i = node->as_integer()) out = static_cast<double>(i->get());
    else return wrong(key, "a number");
    return ok_status();
  }

  Status duration(std::string_view key, Duration& out) const {
    const auto* node = t_.get(key);
    if (node == nullptr) return ok_status();
    const auto* v = node->as_string();
    if (v == nullptr) return wrong(key, "a duration string such as \"5s\"");
    auto d = parse_duration(v->get(), fmt::format("{}: key \"{}\"", where_, key));
    if (!d) return d.take_error();
    if (*d <= Duration::zero()) return wrong(key, "a duration > 0");
    out = *d;
    return ok_status();
  }

  // "HOST:PORT" (the port 1-65535), e.g. a Modbus gateway or an SNMP agent.
  Status host_port(std::string_view key, std::string& host, std::uint16_t& port,
                   std::string_view example) const {
    std::string text;
    if (auto st = string(key, text, true); !st) return st.take_error();
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
      return wrong(key, fmt::format("HOST:PORT, e.g. \"{}\"", example));
    unsigned p = 0;
    const char* first = text.data() + colon + 1;
    const char* last = text.data() + text.size();
    const auto [end, ec] = std::from_chars(first, last, p);
    if (ec != std::errc{} || end != last || p < 1 || p > 65535)
      return wrong(key, "HOST:PORT with a port from 1 to 65535");
    host = text.substr(0, colon);
    port = static_cast<std::uint16_t>(p);
    return ok_status();
  }

  // A sub-table (`auth = {...}` or `[auth]`); nullptr when absent.
  Result<const toml::table*> table(std::string_view key) const {
    const auto* node = t_.get(key);
    if (node == nullptr) return static_cast<const toml::table*>(nullptr);
    if (!node->is_table()) return wrong(key, "a table");
    return node->as_table();
  }

  Error wrong(std::string_view key, std::string_view expected) const {
    return make_error("pollers.config.bad_value",
                      fmt::format("{}: key \"{}\" must be {}", where_, key, expected), false);
  }
  Error missing(std::string_view key) const {
    return make_error("pollers.config.missing_key",
                      fmt::format("{}: required key \"{}\" is missing", where_, key), false);
  }
  bool has(std::string_view key) const { return t_.contains(key); }
  const std::string& where() const { return where_; }

 private:
  const toml::table& t_;
  std::string where_;
};

#define EP_TRY(expr)                         \
  do {                                       \
    if (auto st_ = (expr); !st_) return st_.take_error(); \
  } while (0)

}  // namespace edgepoll::pollers::detail
