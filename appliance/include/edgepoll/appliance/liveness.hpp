#pragma once
// /health: the root and each of its top-level children (prerequisites, deps,
// edge, health) must run and answer a SysPing through their mailboxes within
// `timeout`, at request time. A stalled process (its mailbox not served) is
// named; a stalled event loop answers nothing at all, which a probe with a
// timeout reads as dead too. Costs one message per top-level process.
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "edgepoll/supervision/runtime.hpp"

namespace edgepoll::appliance {

struct LivenessResult {
  bool alive = false;
  std::vector<std::string> not_running;    // top-level children without a process
  std::vector<std::string> not_answering;  // running, but no pong within the timeout
  supervision::Duration slowest{};         // longest round trip among those that answered
  nlohmann::json to_json() const;
};

// Pings and calls `done` once (from any thread) when all answered or the timeout passed.
void check_liveness(supervision::Runtime& runtime, const std::string& root_name, supervision::Duration timeout,
                    std::function<void(LivenessResult)> done);

}  // namespace edgepoll::appliance
