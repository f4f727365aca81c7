// SubtreeWatch: a watched subtree is unfit when it is not running or restarts
// its children too often. Read from the supervisors themselves (any thread may
// read them), so the worker needs no observer of its own.
#include <algorithm>

#include "edgepoll/appliance/registration.hpp"
#include "edgepoll/supervision/supervisor.hpp"

namespace edgepoll::appliance {

using namespace supervision;

SubtreeWatch::SubtreeWatch(std::vector<std::string> paths, unsigned max_restarts, Duration window)
    : max_restarts_(max_restarts), window_(window) {
  for (auto& p : paths) {
    Watched w;
    w.path = std::move(p);
    watched_.push_back(std::move(w));
  }
}

std::optional<std::string> SubtreeWatch::check(const Pid& root, TimePoint now) {
  std::optional<std::string> problem;
  for (auto& w : watched_) {
    const Pid pid = find_in_tree(root, w.path);
    const auto behaviour = pid ? pid.get()->behaviour() : nullptr;
    if (!pid || !pid.alive() || !behaviour) {
      if (!problem) problem = w.path + " is not running";
      continue;
    }
    // The supervisor keeps its own restarts within its own period, and prunes
    // them only when the next one comes: its count is a lower bound of what
    // happened since we last looked, so growth is what we record, with our time.
    const auto* sup = dynamic_cast<const Supervisor*>(behaviour.get());
    const std::size_t count = sup ? sup->restarts_in_window() : 0;
    if (pid.id() != w.pid) {
      if (w.pid != 0) w.restarts.push_back(now);  // the parent replaced the whole subtree
      w.pid = pid.id();
      w.last_seen = count;
    } else if (count > w.last_seen) {
      w.restarts.insert(w.restarts.end(), count - w.last_seen, now);
      w.last_seen = count;
    } else {
      w.last_seen = count;
    }
    std::erase_if(w.restarts, [&](TimePoint t) { return now - t > window_; });
    if (!problem && w.restarts.size() >= max_restarts_) {
      problem = w.path + " restarted " + std::to_string(w.restarts.size()) + " times within " +
                std::to_string(std::chrono::duration_cast<std::chrono::seconds>(window_).count()) +
                " s";
    }
  }
  return problem;
}

}  // namespace edgepoll::appliance
