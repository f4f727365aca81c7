#pragma once
// Faults injected on demand at a seam that already exists between a component
// and the outside world (the storage writer's append, the producer's record
// sink, a device's transport), so that the chaos suite makes a dependency fail
// the way it fails for real and the component's own error path runs. Nothing
// sets a fault unless the daemon runs with `[chaos] enabled = true`; the seams
// only ask active(), a lock and a map lookup that finds nothing.
//
// A fault is keyed by its seam ("storage", "kafka", "device") and an optional
// target (a device id; "" matches every target), and lasts until `until`.
// Times are the caller's (a Clock's now(), or steady_clock::now() on a thread
// without one): the switch owns no time of its own.
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "edgepoll/supervision/clock.hpp"
#include "edgepoll/supervision/result.hpp"

namespace edgepoll::supervision {

class FaultSwitch {
 public:
  void set(std::string seam, std::string target, Error error, TimePoint until) {
    std::lock_guard lock(mutex_);
    faults_[{std::move(seam), std::move(target)}] = {std::move(error), until};
  }
  void clear(const std::string& seam, const std::string& target) {
    std::lock_guard lock(mutex_);
    faults_.erase({seam, target});
  }

  // The error a call through `seam` for `target` must return now, if any.
  std::optional<Error> active(std::string_view seam, std::string_view target, TimePoint now) const {
    std::lock_guard lock(mutex_);
    if (faults_.empty()) return std::nullopt;
    for (const std::string_view key : {target, std::string_view{}}) {  // this target's fault, then everyone's
      const auto it = faults_.find(std::pair{std::string(seam), std::string(key)});
      if (it != faults_.end() && now < it->second.second) return it->second.first;
    }
    return std::nullopt;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, std::pair<Error, TimePoint>> faults_;
};

}  // namespace edgepoll::supervision
