#include "edgepoll/appliance/node_config.hpp"

#include <unistd.h>

#include <array>
#include <initializer_list>

#include "edgepoll/supervision/config_keys.hpp"

namespace edgepoll::appliance {

namespace {
// Letters, digits, '.', '-', '_': the id appears in etcd keys and Kafka group names.
bool valid_id(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (char ch : id) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
                    ch == '-' || ch == '_';
    if (!ok) return false;
  }
  return true;
}
}  // namespace

NodeConfig NodeConfig::defaults() {
  std::array<char, 256> host{};
  NodeConfig c;
  c.id = (gethostname(host.data(), host.size() - 1) == 0 && host[0] != '\0') ? std::string(host.data()) : "edgepoll";
  if (!valid_id(c.id)) c.id = "edgepoll";
  return c;
}

Result<NodeConfig> NodeConfig::parse(const toml::table& t) {
  if (auto s = reject_unknown_keys(t, "[node]", std::initializer_list<std::string_view>{"id"}); !s.ok()) {
    return s.take_error();
  }
  NodeConfig c = defaults();
  if (auto n = t["id"]; n) {
    auto id = n.value<std::string>();
    const auto line = n.node()->source().begin.line;
    if (!id || !valid_id(*id)) {
      return make_error("config.value",
                        "[node] id (line " + std::to_string(line) +
                            "): expected 1..128 letters, digits, '.', '-' or '_'",
                        false, "it names this appliance in etcd keys and Kafka consumer groups");
    }
    c.id = *id;
  }
  return c;
}

}  // namespace edgepoll::appliance
