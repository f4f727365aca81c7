#include "edgepoll/supervision/runtime.hpp"

#include <exception>

#include "edgepoll/supervision/process.hpp"

namespace edgepoll::supervision {

namespace {
// Watches one process for Runtime::on_exit.
class ExitWatcher final : public Behaviour {
 public:
  ExitWatcher(Pid target, std::function<void(const ExitReason&)> fn)
      : target_(std::move(target)), fn_(std::move(fn)) {}
  InitResult init(Process& self) override {
    ref_ = self.monitor(target_);
    return InitResult::ok();
  }
  void handle(Process& self, Message& message) override {
    if (auto* down = std::any_cast<Down>(&message); down && down->ref == ref_) {
      fn_(down->reason);
      self.exit(ExitReason::normal());
      return;
    }
    unexpected(self, message);
  }

 private:
  Pid target_;
  std::function<void(const ExitReason&)> fn_;
  MonitorRef ref_ = 0;
};
}  // namespace

Runtime::Runtime(boost::asio::io_context& io, Clock& clock, bool log_reports)
    : io_(io), clock_(clock) {
  if (log_reports) observers_.push_back(std::make_shared<LoggingObserver>());
}

Runtime::~Runtime() {
  std::vector<std::shared_ptr<Process>> remaining;
  {
    std::lock_guard lock(processes_mutex_);
    for (Process* p = first_process_; p; p = p->next_live_) {
      if (auto shared = p->weak_from_this().lock()) remaining.push_back(std::move(shared));
    }
    for (Process* p = first_process_; p;) {
      Process* next = p->next_live_;
      p->prev_live_ = p->next_live_ = nullptr;
      p->listed_ = false;
      p = next;
    }
    first_process_ = nullptr;
  }
  for (auto& p : remaining) p->teardown();
}

void Runtime::process_started(Process& p) {
  live_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(processes_mutex_);
  p.listed_ = true;
  p.next_live_ = first_process_;
  if (first_process_) first_process_->prev_live_ = &p;
  first_process_ = &p;
}

void Runtime::add_observer(std::shared_ptr<Observer> observer) {
  std::lock_guard lock(observers_mutex_);
  observers_.push_back(std::move(observer));
}

void Runtime::report(const Report& report) {
  std::vector<std::shared_ptr<Observer>> observers;
  {
    std::lock_guard lock(observers_mutex_);
    observers = observers_;
  }
  for (auto& o : observers) o->on_report(report);
}

Result<Pid> Runtime::spawn(std::shared_ptr<Behaviour> behaviour, std::string path) {
  auto process = std::make_shared<Process>(*this, next_id(), std::move(path), std::move(behaviour));
  return start(std::move(process), Pid{});
}

Result<Pid> Runtime::start(std::shared_ptr<Process> process, const Pid& parent) {
  Process& p = *process;
  p.parent_ = parent;
  if (parent) p.links_.insert(parent);
  // init runs here, synchronously, like OTP's start_link: the caller learns the
  // outcome before it goes on. Work sent to the process meanwhile is held.
  InitResult outcome = InitResult::ok();
  p.in_callback_ = true;
  try {
    outcome = p.behaviour_->init(p);
  } catch (const std::exception& e) {
    outcome = InitResult::error(make_error("supervision.init_failed", e.what()));
  } catch (...) {
    outcome = InitResult::error(make_error("supervision.init_failed", "unknown exception"));
  }
  p.in_callback_ = false;
  if (outcome.is_ok() && p.pending_exit_) {
    outcome = InitResult::error(
        make_error("supervision.init_failed", "exited during init: " + p.pending_exit_->to_string()));
  }
  p.pending_exit_.reset();

  if (outcome.is_ok()) {
    process_started(p);
    p.finish_init(true);
    return p.pid();
  }
  // The starter gets the outcome as a value, not as an exit signal.
  if (parent) p.links_.erase(parent);
  const ExitReason reason = outcome.is_ignore()
                                ? ExitReason::normal()
                                : ExitReason::error(outcome.error().message);
  // Processes it linked during init (e.g. a supervisor's first children) learn
  // of the failure through their links. live_ is bumped so that die() balances it.
  // As in OTP, terminate() is not called for a failed init.
  process_started(p);
  p.die(reason, /*run_terminate=*/false);
  p.finish_init(false);
  if (outcome.is_ignore()) return Pid{};
  return outcome.error();
}

void Runtime::send(const Pid& to, Message message) {
  if (to) to.get()->deliver(std::move(message));
}

void Runtime::exit(const Pid& target, ExitReason reason) {
  if (target) target.get()->deliver_exit_signal(Pid{}, std::move(reason), false);
}

void Runtime::on_exit(const Pid& target, std::function<void(const ExitReason&)> fn) {
  auto watcher = spawn(std::make_shared<ExitWatcher>(target, std::move(fn)), "watcher");
  (void)watcher;  // a watcher's init cannot fail
}

void Runtime::process_died(Process& p) {
  live_.fetch_sub(1, std::memory_order_relaxed);
  unlist(p);
}

void Runtime::unlist(Process& p) {
  std::lock_guard lock(processes_mutex_);
  if (!p.listed_) return;
  p.listed_ = false;
  if (p.prev_live_) p.prev_live_->next_live_ = p.next_live_;
  else if (first_process_ == &p) first_process_ = p.next_live_;
  if (p.next_live_) p.next_live_->prev_live_ = p.prev_live_;
  p.prev_live_ = p.next_live_ = nullptr;
}

std::size_t Runtime::settle() {
  std::size_t total = 0;
  for (;;) {
    io_.restart();
    const std::size_t n = io_.poll();
    if (n == 0) break;
    total += n;
  }
  return total;
}

void Runtime::advance(Duration d) {
  settle();
  if (auto* fake = dynamic_cast<FakeClock*>(&clock_)) {
    fake->advance(d, [this] { settle(); });
  }
  settle();
}

}  // namespace edgepoll::supervision
