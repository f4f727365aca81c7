#pragma once
// Shared helpers for config sections: every section rejects keys it does not
// know, naming the key and where it is, so that a typo is an error at load
// time and not a silently ignored setting.
#include <initializer_list>
#include <string>
#include <string_view>

#include <toml++/toml.h>

#include "edgepoll/supervision/result.hpp"

namespace edgepoll::appliance {

inline Status reject_unknown_keys(const toml::table& table, std::string_view section,
                                  std::initializer_list<std::string_view> known) {
  for (const auto& [key, node] : table) {
    bool ok = false;
    for (auto k : known) ok = ok || key.str() == k;
    if (!ok) {
      std::string list;
      for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      const auto& where = node.source().begin;
      return make_error("config.unknown_key",
                        "[" + std::string(section) + "] line " + std::to_string(where.line) +
                            ": unknown key '" + std::string(key.str()) + "'",
                        false, "known keys: " + list);
    }
  }
  return ok_status();
}

}  // namespace edgepoll::appliance
