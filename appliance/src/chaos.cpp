#include "edgepoll/appliance/chaos.hpp"

#include <spdlog/spdlog.h>

#include "edgepoll/supervision/supervisor.hpp"

namespace edgepoll::appliance {

using namespace supervision;

Chaos::Chaos(Runtime& runtime, std::string root_name, std::shared_ptr<FaultSwitch> faults)
    : runtime_(runtime), root_name_(std::move(root_name)), faults_(std::move(faults)) {}

nlohmann::json Chaos::execute(const ControlRequest& r) {
  switch (r.op) {
    case ControlOp::chaos_list: return list();
    case ControlOp::chaos_exit: return exit(r.path, r.exit);
    case ControlOp::chaos_fail: return fail(r.fault, r.device, r.duration);
    default: break;
  }
  return control_error(make_error("control.unknown_op", "not a chaos request"));
}

nlohmann::json Chaos::list() const {
  auto processes = nlohmann::json::array();
  if (const auto root = runtime_.registry().whereis(root_name_)) {
    for (const auto& [path, pid] : living_processes(*root)) {
      const auto b = pid.get()->behaviour();
      processes.push_back({{"path", path}, {"pid", pid.id()}, {"type", b ? std::string(b->kind()) : "dead"}});
    }
  }
  auto out = control_ok();
  out["processes"] = std::move(processes);
  return out;
}

nlohmann::json Chaos::exit(const std::string& path, ChaosExit how) {
  const auto root = runtime_.registry().whereis(root_name_);
  const Pid pid = root ? find_in_tree(*root, path) : Pid{};
  if (!pid) {
    return control_error(make_error("chaos.no_process", "no living process at '" + path + "'", false,
                                    "chaos.list shows the paths"));
  }
  spdlog::warn("chaos event=exit path={} pid={} reason={}", path, pid.id(), to_string(how));
  const auto behaviour = pid.get()->behaviour();
  const bool supervisor = behaviour && behaviour->kind() == "supervisor";
  const ExitReason reason = how == ChaosExit::shutdown ? ExitReason::shutdown() : ExitReason::error("chaos: crash injected");
  if (how == ChaosExit::kill) {
    runtime_.exit(pid, ExitReason::kill());  // untrappable; its children get `killed` through their links
  } else if (supervisor) {
    // A supervisor that exits stops its children first (in reverse start
    // order), so that their replacements never meet them still running.
    stop_supervisor(runtime_, pid, reason);
  } else {
    runtime_.send(pid, SysExit{reason});
  }
  auto out = control_ok();
  out["path"] = path;
  out["pid"] = pid.id();
  return out;
}

nlohmann::json Chaos::fail(ChaosFault fault, const std::string& device, std::chrono::milliseconds duration) {
  const std::string what = "chaos: " + std::string(to_string(fault)) + " injected for " +
                           std::to_string(duration.count()) + " ms";
  std::string seam;
  Error error;
  switch (fault) {
    case ChaosFault::storage_busy:
      seam = "storage";
      error = make_error("storage.busy", what + " (database is locked)", true);
      break;
    case ChaosFault::storage_disk_full:
      seam = "storage";
      error = make_error("storage.disk_full", what + " (database or disk is full)", true);
      break;
    case ChaosFault::kafka_broker_error:
      seam = "kafka";
      error = make_error("kafka.broker_error", what + " (the broker failed the produce request)", true);
      break;
    case ChaosFault::device_connection:
      seam = "device";
      error = make_error("pollers.http.reset", what + " (connection reset)", true,
                         "the device closed or reset the connection");
      break;
  }
  spdlog::warn("chaos event=fail dependency={} device={} duration_ms={}", to_string(fault),
               device.empty() ? "*" : device, duration.count());
  faults_->set(seam, device, std::move(error), runtime_.clock().now() + duration);
  auto out = control_ok();
  out["dependency"] = std::string(to_string(fault));
  out["duration_ms"] = duration.count();
  return out;
}

}  // namespace edgepoll::appliance
