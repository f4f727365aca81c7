#pragma once
// Every config section refuses keys it does not know, so that a typo is an
// error at load time and not a silently ignored setting. One wording for all:
//   <where> line N: unknown key "k" (expected one of: a, b, c)
// Header-only: it is used by the subsystems that parse TOML (they link toml++).
#include <toml++/toml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "edgepoll/supervision/result.hpp"

namespace edgepoll {

template <class Keys>
Status reject_unknown_keys(const toml::table& table, std::string_view where, const Keys& known,
                           std::string code = "config.unknown_key") {
  for (const auto& [key, node] : table) {
    bool ok = false;
    for (const auto& k : known) ok = ok || key.str() == std::string_view(k);
    if (ok) continue;
    std::string list;
    for (const auto& k : known) list += (list.empty() ? "" : ", ") + std::string(k);
    std::string message(where);
    if (const auto line = node.source().begin.line; line > 0)
      message += " line " + std::to_string(line);
    message += ": unknown key \"";
    message += key.str();
    message += "\" (expected one of: " + list + ")";
    return make_error(std::move(code), std::move(message), false, "remove or correct the key");
  }
  return ok_status();
}

// An integer key's value, or nullopt when the key holds anything else. Not
// toml++'s value<int64_t>(): that also converts floats, and converting one
// beyond int64's range is undefined behaviour inside it, so `port = 1e300`
// must be refused here as "expected an integer".
template <class NodeView>
std::optional<std::int64_t> integer_value(const NodeView& node) {
  if (!node.is_integer()) return std::nullopt;
  return node.template value<std::int64_t>();
}

}  // namespace edgepoll
