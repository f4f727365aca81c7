#pragma once
// The chaos hook (control socket ops chaos.list / chaos.exit / chaos.fail, with
// [chaos] enabled): what the chaos suite does to a running daemon. It lists
// the tree's processes, makes one of them exit the way the request says, and
// sets a dependency's fault on the FaultSwitch that the seams read (the storage
// writer's append, the producer's record sink, the devices' transport).
// Every action is logged once as a warning: a chaos log line is never news.
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "edgepoll/appliance/control_request.hpp"
#include "edgepoll/supervision/fault_switch.hpp"
#include "edgepoll/supervision/runtime.hpp"

namespace edgepoll::appliance {

class Chaos {
 public:
  Chaos(supervision::Runtime& runtime, std::string root_name, std::shared_ptr<supervision::FaultSwitch> faults);
  // The answer line for a chaos.* request (an error as control_error).
  nlohmann::json execute(const ControlRequest& request);

 private:
  nlohmann::json list() const;
  nlohmann::json exit(const std::string& path, ChaosExit how);
  nlohmann::json fail(ChaosFault fault, const std::string& device, std::chrono::milliseconds duration);

  supervision::Runtime& runtime_;
  std::string root_name_;
  std::shared_ptr<supervision::FaultSwitch> faults_;
};

}  // namespace edgepoll::appliance
