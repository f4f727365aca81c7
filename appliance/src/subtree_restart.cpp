#include "edgepoll/appliance/subtree_restart.hpp"

#include <memory>

#include "edgepoll/supervision/supervisor.hpp"

namespace edgepoll::appliance {

using namespace supervision;

namespace {

struct Job {
  Runtime& runtime;
  Pid sup;
  std::vector<std::string> to_stop;  // popped from the back: reverse start order
  std::vector<std::string> to_delete;
  std::vector<ChildSpec> to_start;  // in start order
  std::size_t next_start = 0;
  std::function<void(Status)> done;
};

void step(const std::shared_ptr<Job>& job) {
  if (!job->to_stop.empty()) {
    std::string id = job->to_stop.back();
    job->to_stop.pop_back();
    job->to_delete.push_back(id);
    // An id that is not there (a section that was absent) answers an error: skipped.
    return terminate_child(job->runtime, job->sup, id, [job](Status) { step(job); });
  }
  if (!job->to_delete.empty()) {
    std::string id = job->to_delete.back();
    job->to_delete.pop_back();
    return delete_child(job->runtime, job->sup, id, [job](Status) { step(job); });
  }
  if (job->next_start < job->to_start.size()) {
    ChildSpec spec = job->to_start[job->next_start++];
    return start_child(job->runtime, job->sup, std::move(spec), [job](Result<Pid> pid) {
      if (!pid.ok()) {
        if (job->done) job->done(pid.take_error());
        return;
      }
      step(job);
    });
  }
  if (job->done) job->done(ok_status());
}

}  // namespace

void replace_children(Runtime& runtime, const Pid& sup, std::vector<std::string> old_ids,
                      std::vector<ChildSpec> fresh, std::function<void(Status)> done) {
  auto job = std::make_shared<Job>(
      Job{runtime, sup, std::move(old_ids), {}, std::move(fresh), 0, std::move(done)});
  step(job);
}

}  // namespace edgepoll::appliance
