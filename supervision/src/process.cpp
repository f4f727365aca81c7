#include "edgepoll/supervision/process.hpp"

#include <algorithm>
#include <exception>

#include <boost/asio/post.hpp>

#include "edgepoll/supervision/runtime.hpp"

namespace edgepoll::supervision {

namespace {
// Internal wrapper for send_after: lets the process forget the timer id on arrival.
struct TimerFired {
  TimerId id;
  Message message;
};
}  // namespace

Process::Process(Runtime& runtime, std::uint64_t id, std::string path,
                 std::shared_ptr<Behaviour> behaviour)
    : runtime_(runtime),
      id_(id),
      path_(std::move(path)),
      strand_(boost::asio::make_strand(runtime.io())),
      behaviour_(std::move(behaviour)) {}

Process::~Process() {
  // A live process nobody refers to any more (e.g. a root whose Pid was
  // dropped) leaves the runtime's list here.
  runtime_.unlist(*this);
}

std::shared_ptr<Behaviour> Process::behaviour() const {
  std::lock_guard lock(mutex_);
  return behaviour_;
}

Clock& Process::clock() const { return runtime_.clock(); }

// ---- mailbox ------------------------------------------------------------------

void Process::post(std::function<void(Process&)> fn) {
  {
    std::lock_guard lock(mutex_);
    if (state_.load(std::memory_order_relaxed) == State::starting) {
      held_.push_back(std::move(fn));
      return;
    }
  }
  boost::asio::post(strand_, [self = shared_from_this(), fn = std::move(fn)]() { fn(*self); });
}

void Process::finish_init(bool started) {
  std::lock_guard lock(mutex_);
  state_.store(started ? State::running : State::dead, std::memory_order_release);
  // Posted under the lock so that nothing sent after init overtakes what waited.
  for (auto& fn : held_) {
    boost::asio::post(strand_, [self = shared_from_this(), fn = std::move(fn)]() { fn(*self); });
  }
  held_.clear();
  held_.shrink_to_fit();
}

void Process::deliver(Message message) {
  if (state() == State::dead) return;  // sends to a dead process are dropped, as in Erlang
  post([m = std::move(message)](Process& self) mutable {
    if (auto* fired = std::any_cast<TimerFired>(&m)) {
      auto& t = self.timers_;
      t.erase(std::remove(t.begin(), t.end(), fired->id), t.end());
      Message inner = std::move(fired->message);
      self.handle_message(inner);
      return;
    }
    self.handle_message(m);
  });
}

void Process::send(const Pid& to, Message message) const {
  if (to) to.get()->deliver(std::move(message));
}

bool Process::handle_system_message(Message& message) {
  if (std::any_cast<SysResume>(&message)) {
    suspended_ = false;
    std::vector<Message> held;
    held.swap(suspended_held_);
    for (auto& m : held) handle_message(m);
    return true;
  }
  if (auto* e = std::any_cast<SysExit>(&message)) {
    die(e->reason);
    return true;
  }
  if (suspended_) {
    suspended_held_.push_back(std::move(message));
    return true;
  }
  if (std::any_cast<SysSuspend>(&message)) {
    suspended_ = true;
    return true;
  }
  if (auto* ping = std::any_cast<SysPing>(&message)) {
    if (ping->pong) ping->pong();
    return true;
  }
  return false;
}

void Process::handle_message(Message& message) {
  if (!alive()) return;
  if (handle_system_message(message)) return;
  if (receive_filter_ && !receive_filter_(message)) {
    postponed_.push_back(std::move(message));
    return;
  }
  dispatch_to_behaviour(message);
  drain_postponed();
}

void Process::dispatch_to_behaviour(Message& message) {
  in_callback_ = true;
  try {
    behaviour_->handle(*this, message);
  } catch (const std::exception& e) {
    if (!pending_exit_) pending_exit_ = std::make_unique<ExitReason>(ExitReason::error(e.what()));
  } catch (...) {
    if (!pending_exit_) pending_exit_ = std::make_unique<ExitReason>(ExitReason::error("unknown exception"));
  }
  in_callback_ = false;
  after_callback();
}

void Process::after_callback() {
  if (!pending_exit_) return;
  ExitReason reason = std::move(*pending_exit_);
  pending_exit_.reset();
  die(reason);
}

void Process::drain_postponed() {
  // OTP's selective receive: the oldest waiting message the current filter
  // accepts goes first; messages keep their order.
  while (alive() && !postponed_.empty()) {
    auto it = receive_filter_
                  ? std::find_if(postponed_.begin(), postponed_.end(), receive_filter_)
                  : postponed_.begin();
    if (it == postponed_.end()) return;
    Message m = std::move(*it);
    postponed_.erase(it);
    dispatch_to_behaviour(m);
  }
}

void Process::set_receive_filter(std::function<bool(const Message&)> accepts) {
  receive_filter_ = std::move(accepts);
}

void Process::clear_receive_filter() { receive_filter_ = nullptr; }

// ---- exits --------------------------------------------------------------------

void Process::exit(ExitReason reason) {
  if (in_callback_) {
    if (!pending_exit_) pending_exit_ = std::make_unique<ExitReason>(std::move(reason));
    return;
  }
  die(reason);
}

void Process::exit(const Pid& target, ExitReason reason) const {
  if (!target) return;
  target.get()->deliver_exit_signal(const_cast<Process*>(this)->pid(), std::move(reason), false);
}

void Process::deliver_exit_signal(const Pid& from, ExitReason reason, bool via_link) {
  post([from, reason = std::move(reason), via_link](Process& self) mutable {
    if (!self.alive()) return;
    // An unlinked peer's signal is void: after unlink() no EXIT can arrive.
    if (via_link && !self.links_.erase(from)) return;
    if (reason.kind() == ExitReason::Kind::kill && !via_link) {
      self.die(ExitReason::killed());  // untrappable
      return;
    }
    if (self.trap_exits_) {
      Message m = ExitSignal{from, std::move(reason)};
      self.handle_message(m);
      return;
    }
    if (reason.is_normal()) return;  // a normal exit signal does not kill a non-trapping process
    self.die(reason);
  });
}

void Process::die(const ExitReason& reason, bool run_terminate) {
  if (state() == State::dead) return;
  if (run_terminate && reason.kind() != ExitReason::Kind::killed) {
    in_callback_ = true;
    try {
      behaviour_->terminate(*this, reason);
    } catch (...) {
      // terminate() failing must not stop the death from being signalled.
    }
    in_callback_ = false;
    pending_exit_.reset();
  }
  state_.store(State::dead, std::memory_order_release);
  Pid me = pid();
  runtime_.registry().remove_dead(me);
  for (auto& peer : links_.take_all()) peer.get()->deliver_exit_signal(me, reason, true);
  for (auto& [ref, watcher] : monitored_by_) watcher.get()->deliver(Down{ref, me, reason});
  monitored_by_.clear();
  for (auto& [ref, target] : monitors_) {
    target.get()->post([r = ref](Process& p) { p.remove_monitor_from_peer(r); });
  }
  monitors_.clear();
  for (TimerId t : timers_) runtime_.clock().cancel(t);
  timers_.clear();
  postponed_.clear();
  suspended_held_.clear();
  receive_filter_ = nullptr;
  std::shared_ptr<Behaviour> doomed;
  {
    std::lock_guard lock(mutex_);
    doomed = std::move(behaviour_);
  }
  doomed.reset();  // outside the lock: destructors may send or log
  runtime_.process_died(*this);
}

void Process::teardown() {
  state_.store(State::dead, std::memory_order_release);
  links_.take_all();
  monitors_.clear();
  monitored_by_.clear();
  postponed_.clear();
  suspended_held_.clear();
  receive_filter_ = nullptr;
  parent_ = Pid{};
  std::shared_ptr<Behaviour> doomed;
  std::vector<std::function<void(Process&)>> held;
  {
    std::lock_guard lock(mutex_);
    doomed = std::move(behaviour_);
    held.swap(held_);
  }
}

// ---- links and monitors -----------------------------------------------------------

void Process::link(const Pid& other) {
  if (!other || other.get() == this) return;
  if (links_.insert(other)) {
    other.get()->post([me = pid()](Process& p) { p.add_link_from_peer(me); });
  }
}

void Process::unlink(const Pid& other) {
  if (!other || !links_.erase(other)) return;
  other.get()->post([me = pid()](Process& p) { p.remove_link_from_peer(me); });
}

void Process::add_link_from_peer(const Pid& peer) {
  if (!alive()) {
    peer.get()->deliver_exit_signal(pid(), ExitReason::noproc(), true);
    return;
  }
  links_.insert(peer);
}

void Process::remove_link_from_peer(const Pid& peer) { links_.erase(peer); }

MonitorRef Process::monitor(const Pid& other) {
  const MonitorRef ref = runtime_.next_id();
  if (!other) return ref;
  monitors_.emplace_back(ref, other);
  other.get()->post([ref, me = pid()](Process& p) { p.add_monitor_from_peer(ref, me); });
  return ref;
}

void Process::demonitor(MonitorRef ref) {
  auto it = std::find_if(monitors_.begin(), monitors_.end(),
                         [ref](const auto& m) { return m.first == ref; });
  if (it == monitors_.end()) return;
  Pid target = it->second;
  monitors_.erase(it);
  target.get()->post([ref](Process& p) { p.remove_monitor_from_peer(ref); });
}

void Process::add_monitor_from_peer(MonitorRef ref, const Pid& watcher) {
  if (!alive()) {
    watcher.get()->deliver(Down{ref, pid(), ExitReason::noproc()});
    return;
  }
  monitored_by_.emplace_back(ref, watcher);
}

void Process::remove_monitor_from_peer(MonitorRef ref) {
  auto it = std::find_if(monitored_by_.begin(), monitored_by_.end(),
                         [ref](const auto& m) { return m.first == ref; });
  if (it != monitored_by_.end()) monitored_by_.erase(it);
}

// ---- children and timers ------------------------------------------------------------

Result<Pid> Process::spawn_link(std::shared_ptr<Behaviour> behaviour, std::string path) {
  auto child = std::make_shared<Process>(runtime_, runtime_.next_id(), std::move(path),
                                         std::move(behaviour));
  Pid child_pid = child->pid();
  links_.insert(child_pid);
  auto started = runtime_.start(std::move(child), pid());
  if (!started.ok() || !started.value()) links_.erase(child_pid);
  return started;
}

TimerId Process::send_after(Duration delay, Message message) {
  auto weak = weak_from_this();
  // The id is known only after schedule() returns, and a real timer may fire on
  // another thread before that; hence the atomic slot.
  auto slot = std::make_shared<std::atomic<TimerId>>(0);
  const TimerId id = runtime_.clock().schedule_after(
      delay, [weak, slot, m = std::move(message)]() mutable {
        if (auto p = weak.lock()) p->deliver(TimerFired{slot->load(), std::move(m)});
      });
  slot->store(id);
  timers_.push_back(id);
  return id;
}

void Process::cancel_timer(TimerId id) {
  runtime_.clock().cancel(id);
  timers_.erase(std::remove(timers_.begin(), timers_.end(), id), timers_.end());
}

}  // namespace edgepoll::supervision
