#pragma once
// [control]: the operator's control socket (edgepollctl's writes). A Unix
// socket, never the TCP health port: file permissions say who may change state.
//
//   [control]
//   socket = "/run/edgepoll/control.sock"   # in systemd's RuntimeDirectory
//   group = "edgepoll"                      # socket group (mode 0660) when that group exists
//   max_request_bytes = 4096                # a longer request line is refused (control.too_large)
#include <cstddef>
#include <string>

#include <toml++/toml.h>

#include "edgepoll/supervision/result.hpp"

namespace edgepoll::appliance {

struct ControlConfig {
  std::string socket = "/run/edgepoll/control.sock";
  std::string group = "edgepoll";
  std::size_t max_request_bytes = 4096;

  static Result<ControlConfig> parse(const toml::table& section);
};

}  // namespace edgepoll::appliance
