// Stopping children. OTP's shutdown protocol: monitor the child, unlink it, send
// `shutdown` (or the untrappable kill for brutal_kill), wait for its DOWN, and
// kill it if the shutdown timeout passes first. Static children stop one at a
// time in reverse start order; dynamic ones all at once (OTP does the same).
// While it waits, the supervisor handles nothing else: other messages wait in
// order (selective receive), exactly as a blocked OTP supervisor would.
#include "supervisor_internal.hpp"

namespace edgepoll::supervision {

namespace {
std::atomic<std::uint64_t> next_job{1};
}

void Supervisor::stop_children(Process& self, std::vector<Child*> victims, bool parallel,
                               std::function<void(Process&)> then) {
  auto job = std::make_unique<StopJob>();
  job->id = next_job++;
  job->queue = std::move(victims);
  job->parallel = parallel;
  job->then = std::move(then);
  stop_job_ = std::move(job);
  const std::uint64_t id = stop_job_->id;
  self.set_receive_filter([this, id](const Message& m) {
    if (const auto* down = std::any_cast<Down>(&m)) {
      return stop_job_ && stop_job_->waiting.count(down->ref) > 0;
    }
    if (const auto* t = std::any_cast<detail::ShutdownTimeout>(&m)) return t->job == id;
    return false;
  });
  stop_next(self);
}

void Supervisor::stop_next(Process& self) {
  StopJob& job = *stop_job_;
  Duration longest{0};
  bool infinite = false;
  while (job.next < job.queue.size() && (job.parallel || job.waiting.empty())) {
    Child* c = job.queue[job.next++];
    if (!c->pid) continue;
    const Pid pid = c->pid;
    const MonitorRef ref = self.monitor(pid);
    self.unlink(pid);  // from here no EXIT of it can arrive; its DOWN says how it ended
    {
      std::lock_guard lock(view_mutex_);
      by_pid_.erase(pid);
    }
    job.waiting.emplace(ref, c);
    const Shutdown& how = c->spec->shutdown;
    self.exit(pid, how.is_brutal_kill() ? ExitReason::kill() : ExitReason::shutdown());
    if (how.is_infinity()) infinite = true;
    if (!how.is_brutal_kill() && !how.is_infinity()) longest = std::max(longest, how.timeout_value());
  }
  if (job.waiting.empty()) {
    // Everything stopped: resume normal service, then continue the caller's work.
    auto then = std::move(job.then);
    stop_job_.reset();
    self.clear_receive_filter();
    if (then) then(self);
    return;
  }
  if (!infinite && longest > Duration::zero()) {
    job.timer = self.send_after(longest, detail::ShutdownTimeout{job.id});
  }
}

void Supervisor::on_stop_message(Process& self, Message& message) {
  StopJob& job = *stop_job_;
  if (auto* timeout = std::any_cast<detail::ShutdownTimeout>(&message)) {
    if (timeout->job != job.id) return;
    job.timer = 0;
    for (auto& [ref, child] : job.waiting) self.exit(child->pid, ExitReason::kill());
    return;
  }
  auto* down = std::any_cast<Down>(&message);
  if (!down) return;
  auto it = job.waiting.find(down->ref);
  if (it == job.waiting.end()) return;
  Child* child = it->second;
  job.waiting.erase(it);
  child_stopped(self, *child, down->reason);
  if (job.waiting.empty()) {
    if (job.timer) self.cancel_timer(job.timer);
    job.timer = 0;
    stop_next(self);
  }
}

void Supervisor::child_stopped(Process& self, Child& child, const ExitReason& reason) {
  const auto& spec = *child.spec;
  const bool permanent = spec.restart == Restart::permanent;
  using K = ExitReason::Kind;
  const bool expected =
      (reason.kind() == K::killed && spec.shutdown.is_brutal_kill()) ||
      (reason.kind() == K::shutdown && reason.detail().empty()) ||
      (!permanent && (reason.kind() == K::normal || reason.kind() == K::shutdown));
  if (!expected) report(self, ReportKind::shutdown_error, &child, reason);
  set_pid(child, Pid{});
  if (spec.restart == Restart::temporary) remove_child(child);
}

void Supervisor::shut_down(Process& self, ExitReason reason) {
  if (stopping_) return;
  stopping_ = true;
  std::vector<Child*> victims = running_in_stop_order(0);
  stop_children(self, std::move(victims), dynamic(), [this, reason](Process& me) {
    report(me, ReportKind::supervisor_stopped, nullptr, reason);
    me.exit(reason);
  });
}

}  // namespace edgepoll::supervision
