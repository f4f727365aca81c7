#pragma once
// Child specs for the `edge` side of the tree: `pollers`, a simple_one_for_one
// of TEMPORARY device subtrees (one bad device never disturbs another; when it
// exhausts its own intensity it dies alone), and the config manager that
// decides when to try a dead device again.
#include "edgepoll/pollers/config_manager.hpp"
#include "edgepoll/pollers/device_processes.hpp"
#include "edgepoll/supervision/child_spec.hpp"

namespace edgepoll::pollers {

supervision::ChildSpec pollers_child(PollerContext context);
supervision::ChildSpec config_manager_child(std::vector<DeviceConfig> devices, PollerContext context,
                                            ConfigManagerOptions options = {}, QuarantineLog* quarantine = nullptr);

}  // namespace edgepoll::pollers
