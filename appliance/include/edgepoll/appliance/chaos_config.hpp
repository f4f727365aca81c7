#pragma once
// [chaos]: the chaos hook, for test rigs only (off unless enabled).
//
//   [chaos]
//   enabled = true    # default false: chaos.* requests on the control socket are refused
//
// A daemon that looks like production (started by systemd) refuses to boot
// with it unless EDGEPOLL_ALLOW_FAULT_INJECTION=1 is in its environment, which
// the package never sets (see fault_injection_allowed in test_hooks.hpp).
#include <toml++/toml.h>

#include "edgepoll/supervision/result.hpp"

namespace edgepoll::appliance {

struct ChaosConfig {
  bool enabled = false;

  static Result<ChaosConfig> parse(const toml::table& section);
};

}  // namespace edgepoll::appliance
