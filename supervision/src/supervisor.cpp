// Supervisor: start, exit handling and restart policy. The rules follow OTP's
// supervisor.erl (OTP 25) so that traces can be compared with OTP itself.
#include <algorithm>
#include <set>

#include "supervisor_internal.hpp"

namespace edgepoll::supervision {

using detail::supervision_error;

namespace {
Status validate(const SupervisorSpec& spec) {
  const auto& f = spec.flags;
  if (f.intensity < 0) return supervision_error("supervision.bad_spec", "intensity must be >= 0");
  if (f.period_s <= 0) return supervision_error("supervision.bad_spec", "period must be > 0 seconds");
  if (f.strategy == Strategy::simple_one_for_one && spec.children.size() != 1) {
    return supervision_error("supervision.bad_spec",
                             "simple_one_for_one needs exactly one child spec (the template), got " +
                                 std::to_string(spec.children.size()));
  }
  std::set<std::string> ids;
  for (const auto& c : spec.children) {
    if (!c.start) return supervision_error("supervision.bad_spec", "child '" + c.id + "' has no start function");
    if (f.strategy != Strategy::simple_one_for_one && !ids.insert(c.id).second) {
      return supervision_error("supervision.bad_spec", "duplicate child id '" + c.id + "'");
    }
  }
  return ok_status();
}
}  // namespace

Supervisor::Supervisor(SupervisorSpec spec) : spec_(std::move(spec)) {}
Supervisor::~Supervisor() = default;

InitResult Supervisor::init(Process& self) {
  self.trap_exits(true);
  clock_ = &self.clock();
  if (auto valid = validate(spec_); !valid.ok()) return InitResult::error(valid.error());
  if (dynamic()) {
    template_ = std::make_shared<const ChildSpec>(spec_.children.front());
    return InitResult::ok();
  }
  for (const auto& cs : spec_.children) {
    auto child = std::make_unique<Child>();
    child->serial = detail::next_child_serial();
    child->spec = std::make_shared<const ChildSpec>(cs);
    child->id = cs.id;
    add_child(std::move(child));
  }
  std::vector<Child*> order;
  for (auto& c : static_) order.push_back(c.get());
  if (Child* failed = start_in_order(self, order)) {
    // init cannot wait for the started children to stop, so they are signalled
    // (reverse start order) and unlinked; the start fails at once, as in OTP,
    // with failed_to_start_child.
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
      Child* c = *it;
      if (!c->pid) continue;
      self.unlink(c->pid);
      self.exit(c->pid, c->spec->shutdown.is_brutal_kill() ? ExitReason::kill() : ExitReason::shutdown());
    }
    return InitResult::error(supervision_error(
        "supervision.failed_to_start_child", "failed_to_start_child " + failed->id));
  }
  return InitResult::ok();
}

Supervisor::Child* Supervisor::start_in_order(Process& self, const std::vector<Child*>& children) {
  for (Child* c : children) {
    auto started = start_one(self, *c);
    if (!started.ok()) {
      report(self, ReportKind::start_error, c, ExitReason::error(started.error().message),
             started.error().describe());
      return c;
    }
    if (!started.value()) {  // ignore
      if (c->spec->restart == Restart::temporary) remove_child(*c);
      continue;
    }
    report(self, ReportKind::child_started, c, ExitReason::normal());
  }
  return nullptr;
}

Result<Pid> Supervisor::start_one(Process& self, Child& child) {
  ChildStart start{child.id, child.args, self.path()};
  auto behaviour = child.spec->start(start);
  if (!behaviour.ok()) return behaviour.take_error();
  auto pid = self.spawn_link(std::move(behaviour.value()), child_path(self, child.id));
  if (pid.ok() && pid.value()) set_pid(child, pid.value());
  return pid;
}

void Supervisor::handle(Process& self, Message& message) {
  if (auto* exit = std::any_cast<ExitSignal>(&message)) {
    if (self.parent() && exit->from == self.parent()) {
      shut_down(self, exit->reason);  // the parent stops us: children first
      return;
    }
    if (Child* child = find_by_pid(exit->from)) on_child_exit(self, *child, exit->reason);
    // Otherwise a linked non-child or an outsider: OTP ignores it, and so do we.
    return;
  }
  if (auto* again = std::any_cast<detail::TryAgainRestart>(&message)) {
    Child* child = nullptr;
    for (auto& c : static_) {
      if (c->serial == again->serial) child = c.get();
    }
    for (auto& [raw, c] : dynamic_) {
      if (c->serial == again->serial) child = c.get();
    }
    if (child && child->restarting) {
      {
        std::lock_guard lock(view_mutex_);
        child->restarting = false;
      }
      restart(self, *child);
    }
    return;
  }
  if (stop_job_) {
    on_stop_message(self, message);
    return;
  }
  handle_api(self, message);
}

void Supervisor::on_child_exit(Process& self, Child& child, const ExitReason& reason) {
  set_pid(child, Pid{});
  report(self, ReportKind::child_terminated, &child, reason);
  switch (child.spec->restart) {
    case Restart::permanent:
      restart(self, child);
      return;
    case Restart::transient:
      if (!reason.is_clean()) {
        restart(self, child);
      } else if (dynamic()) {
        remove_child(child);
      }
      return;
    case Restart::temporary:
      remove_child(child);
      return;
  }
}

bool Supervisor::add_restart(Process& self) {
  // OTP: keep the restarts not older than Now - Period (whole seconds), add Now,
  // and give up when more than MaxR remain. The window never holds more than MaxR+1.
  const std::int64_t now = self.clock().monotonic_seconds();
  const std::int64_t threshold = now - spec_.flags.period_s;
  std::lock_guard lock(view_mutex_);
  // Oldest first: the expired ones are a prefix.
  restarts_.erase(restarts_.begin(),
                  std::find_if(restarts_.begin(), restarts_.end(),
                               [threshold](std::int64_t r) { return r >= threshold; }));
  restarts_.push_back(now);
  return restarts_.size() <= static_cast<std::size_t>(spec_.flags.intensity);
}

void Supervisor::restart(Process& self, Child& child) {
  if (!add_restart(self)) {
    report(self, ReportKind::restart_intensity_reached, &child, ExitReason::shutdown(),
           "more than " + std::to_string(spec_.flags.intensity) + " restarts in " +
               std::to_string(spec_.flags.period_s) + " s");
    shut_down(self, ExitReason::shutdown());
    return;
  }
  switch (spec_.flags.strategy) {
    case Strategy::one_for_one:
    case Strategy::simple_one_for_one: {
      auto started = start_one(self, child);
      if (!started.ok()) {
        report(self, ReportKind::start_error, &child, ExitReason::error(started.error().message),
               started.error().describe());
        try_again_later(self, child);
      } else if (!started.value()) {
        if (dynamic() || child.spec->restart == Restart::temporary) remove_child(child);
      } else {
        report(self, ReportKind::child_restarted, &child, ExitReason::normal());
      }
      return;
    }
    case Strategy::one_for_all:
      restart_group(self, child, running_in_stop_order(0));
      return;
    case Strategy::rest_for_one:
      restart_group(self, child, running_in_stop_order(index_of(child)));
      return;
  }
}

void Supervisor::restart_group(Process& self, Child& failed, std::vector<Child*> victims) {
  const std::uint64_t failed_serial = failed.serial;
  stop_children(self, std::move(victims), /*parallel=*/false, [this, failed_serial](Process& me) {
    // After the stop (temporary children are gone by now): start the group in
    // order: all children for one_for_all, the failed one and those after it
    // for rest_for_one (children that were not running are started too, as OTP does).
    std::size_t from = 0;
    if (spec_.flags.strategy == Strategy::rest_for_one) {
      for (std::size_t i = 0; i < static_.size(); ++i) {
        if (static_[i]->serial == failed_serial) from = i;
      }
    }
    std::vector<Child*> group;
    for (std::size_t i = from; i < static_.size(); ++i) group.push_back(static_[i].get());
    std::vector<Child*> to_start;
    for (Child* c : group) {
      if (!c->pid) to_start.push_back(c);
    }
    for (Child* c : to_start) {
      auto started = start_one(me, *c);
      if (!started.ok()) {
        report(me, ReportKind::start_error, c, ExitReason::error(started.error().message),
               started.error().describe());
        try_again_later(me, *c);
        return;
      }
      if (!started.value()) {
        if (c->spec->restart == Restart::temporary) remove_child(*c);
        continue;
      }
      report(me, ReportKind::child_restarted, c, ExitReason::normal());
    }
  });
}

void Supervisor::try_again_later(Process& self, Child& child) {
  {
    std::lock_guard lock(view_mutex_);
    child.restarting = true;
  }
  self.send(self.self(), detail::TryAgainRestart{child.serial});
}

std::string Supervisor::child_path(Process& self, const std::string& id) const {
  return self.path() + "/" + id;
}

void Supervisor::report(Process& self, ReportKind kind, const Child* child,
                        const ExitReason& reason, std::string detail) const {
  self.runtime().report(
      Report{kind, self.path(), child ? child->id : std::string(), reason, std::move(detail)});
}

}  // namespace edgepoll::supervision
