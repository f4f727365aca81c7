#include "edgepoll/pollers/pollers_tree.hpp"

#include "edgepoll/supervision/supervisor.hpp"

namespace edgepoll::pollers {

using namespace supervision;

ChildSpec pollers_child(PollerContext context) {
  ChildFactory device = [context](const ChildStart& start) -> Result<std::shared_ptr<Behaviour>> {
    const auto* config = std::any_cast<std::shared_ptr<const DeviceConfig>>(&start.args);
    if (!config || !*config) return make_error("pollers.bad_start", "device start needs its DeviceConfig");
    return std::shared_ptr<Behaviour>(std::make_shared<Supervisor>(device_subtree(*config, context)));
  };
  ChildSpec device_spec{"device", device, Restart::temporary, Shutdown::infinity(), ChildType::supervisor};
  // pollers itself restarts rarely: a device's death is not a pollers restart.
  return supervisor_child("pollers", SupervisorSpec{{Strategy::simple_one_for_one, 10, 60}, {device_spec}});
}

ChildSpec config_manager_child(CurrentDevices current, std::shared_ptr<StartedDevices> started,
                               PollerContext context, ConfigManagerOptions options, QuarantineLog* quarantine) {
  ChildFactory make = [current, started, context, options,
                       quarantine](const ChildStart&) -> Result<std::shared_ptr<Behaviour>> {
    return std::shared_ptr<Behaviour>(std::make_shared<ConfigManager>(current, started, context, options, quarantine));
  };
  return worker_child("config_manager", make);
}

ChildSpec config_manager_child(std::vector<DeviceConfig> devices, PollerContext context,
                               ConfigManagerOptions options, QuarantineLog* quarantine) {
  auto fixed = std::make_shared<ApplyDevices>();
  for (auto& d : devices)
    fixed->devices.push_back(std::make_shared<const DeviceConfig>(std::move(d)));
  return config_manager_child([fixed] { return *fixed; }, std::make_shared<StartedDevices>(), context, options,
                              quarantine);
}

}  // namespace edgepoll::pollers
