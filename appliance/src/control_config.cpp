#include "edgepoll/appliance/control_config.hpp"

#include <sys/un.h>

#include <initializer_list>

#include "edgepoll/supervision/config_keys.hpp"

namespace edgepoll::appliance {

Result<ControlConfig> ControlConfig::parse(const toml::table& t) {
  if (auto s = reject_unknown_keys(t, "[control]", std::initializer_list<std::string_view>{"socket", "group", "max_request_bytes"});
      !s.ok()) {
    return s.take_error();
  }
  ControlConfig c;
  auto line = [](const toml::node_view<const toml::node>& n) { return " (line " + std::to_string(n.node()->source().begin.line) + ")"; };
  if (auto n = t["socket"]; n) {
    auto v = n.value<std::string>();
    // sun_path holds 108 bytes with its terminating NUL.
    if (!v || v->empty() || v->front() != '/' || v->size() >= sizeof(sockaddr_un{}.sun_path)) {
      return make_error("config.value", "[control] socket" + line(n) + ": expected an absolute path of at most 107 bytes",
                        false, "the default is /run/edgepoll/control.sock");
    }
    c.socket = *v;
  }
  if (auto n = t["group"]; n) {
    auto v = n.value<std::string>();
    if (!v) return make_error("config.type", "[control] group" + line(n) + ": expected a group name like \"edgepoll\"");
    c.group = *v;
  }
  if (auto n = t["max_request_bytes"]; n) {
    auto v = integer_value(n);
    if (!v || *v < 256 || *v > std::int64_t{1024} * 1024) {
      return make_error("config.value", "[control] max_request_bytes" + line(n) + ": expected an integer 256..1048576");
    }
    c.max_request_bytes = static_cast<std::size_t>(*v);
  }
  return c;
}

}  // namespace edgepoll::appliance
