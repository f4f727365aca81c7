#include "edgepoll/appliance/liveness.hpp"

#include <map>
#include <memory>
#include <mutex>

#include <nlohmann/json.hpp>

#include "edgepoll/supervision/supervisor.hpp"

namespace edgepoll::appliance {

using namespace supervision;

nlohmann::json LivenessResult::to_json() const {
  nlohmann::json j = {{"alive", alive},
                      {"slowest_ms", std::chrono::duration_cast<std::chrono::milliseconds>(slowest).count()}};
  if (!not_running.empty()) j["not_running"] = not_running;
  if (!not_answering.empty()) j["not_answering"] = not_answering;
  return j;
}

namespace {

// One check in progress: answered by the last pong or by the timer, whichever
// comes first; later arrivals find it finished and do nothing.
struct Round {
  std::mutex mutex;
  bool finished = false;
  TimePoint sent{};
  std::map<std::string, bool> answered;  // path -> pong seen
  LivenessResult result;
  std::function<void(LivenessResult)> done;
  TimerId timer = 0;

  // Called with the lock held; returns the callback to run after unlocking.
  std::function<void()> finish() {
    finished = true;
    for (const auto& [path, ok] : answered)
      if (!ok) result.not_answering.push_back(path);
    result.alive = result.not_running.empty() && result.not_answering.empty();
    return [d = std::move(done), r = result] { d(r); };
  }
};

}  // namespace

void check_liveness(Runtime& rt, const std::string& root_name, Duration timeout,
                    std::function<void(LivenessResult)> done) {
  auto round = std::make_shared<Round>();
  round->done = std::move(done);
  round->sent = rt.clock().now();
  std::vector<std::pair<std::string, Pid>> targets;
  const auto root = rt.registry().whereis(root_name);
  if (!root) {
    round->result.not_running.push_back(root_name);
  } else {
    targets.emplace_back(root_name, *root);
    for (const auto& c : which_children(*root)) {
      const std::string path = root_name + "/" + c.id;
      if (c.pid) targets.emplace_back(path, c.pid);
      else round->result.not_running.push_back(path);
    }
  }
  std::function<void()> finished;
  {
    std::lock_guard lock(round->mutex);
    for (const auto& [path, pid] : targets) round->answered[path] = false;
    if (targets.empty()) finished = round->finish();
  }
  if (finished) return finished();
  Clock& clock = rt.clock();
  for (const auto& target : targets) {  // not a structured binding: clang 14 (the fuzz build) cannot capture one
    const auto& path = target.first;
    target.second.get()->deliver(SysPing{[round, path, &clock] {
      std::function<void()> then;
      {
        std::lock_guard lock(round->mutex);
        if (round->finished) return;
        round->answered[path] = true;
        round->result.slowest = std::max(round->result.slowest, clock.now() - round->sent);
        for (const auto& [p, ok] : round->answered)
          if (!ok) return;
        then = round->finish();
        clock.cancel(round->timer);
      }
      then();
    }});
  }
  const TimerId timer = clock.schedule_after(timeout, [round] {
    std::function<void()> then;
    {
      std::lock_guard lock(round->mutex);
      if (round->finished) return;
      then = round->finish();
    }
    then();
  });
  std::lock_guard lock(round->mutex);
  round->timer = timer;
}

}  // namespace edgepoll::appliance
