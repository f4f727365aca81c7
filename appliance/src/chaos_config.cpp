#include "edgepoll/appliance/chaos_config.hpp"

#include <initializer_list>

#include "edgepoll/supervision/config_keys.hpp"

namespace edgepoll::appliance {

Result<ChaosConfig> ChaosConfig::parse(const toml::table& t) {
  if (auto s = reject_unknown_keys(t, "[chaos]", std::initializer_list<std::string_view>{"enabled"}); !s.ok()) {
    return s.take_error();
  }
  ChaosConfig c;
  if (auto n = t["enabled"]; n) {
    auto v = n.value<bool>();
    if (!v) {
      return make_error("config.type",
                        "[chaos] enabled (line " + std::to_string(n.node()->source().begin.line) + "): expected true or false");
    }
    c.enabled = *v;
  }
  return c;
}

}  // namespace edgepoll::appliance
