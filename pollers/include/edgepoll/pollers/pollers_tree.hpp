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
// Every instance (the first and each restarted one) starts from `current` and
// adopts the device subtrees already running; `started` outlives the spec, so a
// spec rebuilt with new options (a reload) adopts them too.
supervision::ChildSpec config_manager_child(CurrentDevices current, std::shared_ptr<StartedDevices> started,
                                            PollerContext context,
                                            ConfigManagerOptions options = {}, QuarantineLog* quarantine = nullptr);
// A fixed device list (tests, tools).
supervision::ChildSpec config_manager_child(std::vector<DeviceConfig> devices, PollerContext context,
                                            ConfigManagerOptions options = {}, QuarantineLog* quarantine = nullptr);

}  // namespace edgepoll::pollers
