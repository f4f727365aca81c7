#include "edgepoll/supervision/loop_process.hpp"

#include <utility>

#include "edgepoll/supervision/runtime.hpp"

namespace edgepoll::supervision {

namespace {
// The longest wait between steps: the heartbeat stays fresh (the watchdog
// reads it) even while a step asks for a long pause, e.g. a Kafka backoff.
constexpr auto kLongestWait = std::chrono::milliseconds(100);
}  // namespace

void LoopWake::raise() {
  {
    std::lock_guard lock(mutex_);
    raised_ = true;
  }
  wake_.notify_all();
}

LoopThread::LoopThread(Loop loop, Clock& clock, std::shared_ptr<Heartbeat> heartbeat, std::function<void()> on_failure)
    : loop_(std::move(loop)),
      clock_(clock),
      heartbeat_(std::move(heartbeat)),
      on_failure_(std::move(on_failure)),
      gate_(loop_.wake ? loop_.wake : std::make_shared<LoopWake>()),
      thread_([this] { run(); }) {}

LoopThread::~LoopThread() { stop(); }

void LoopThread::run() {
  for (;;) {
    if (heartbeat_) heartbeat_->beat(clock_.now());
    auto delay = loop_.step();
    if (!delay.ok()) {
      {
        std::lock_guard lock(gate_->mutex_);
        failure_ = delay.error();
      }
      if (on_failure_) on_failure_();
      break;
    }
    if (!wait(std::min<Duration>(delay.value(), kLongestWait))) break;
  }
  if (loop_.finish) loop_.finish();
}

bool LoopThread::wait(Duration delay) {
  auto gate = gate_;
  std::unique_lock lock(gate->mutex_);
  if (gate->stopping_) return false;
  if (std::exchange(gate->raised_, false) || delay <= Duration::zero()) return true;
  // The clock wakes the loop, so that a FakeClock steps it in tests; a raise
  // and stop() wake it at once. The timer holds the gate, not this thread
  // object: it may fire on the clock's thread after the loop has gone.
  const std::uint64_t round = ++gate->round_;
  lock.unlock();
  const TimerId timer = clock_.schedule_after(delay, [gate, round] {
    std::lock_guard wake_lock(gate->mutex_);
    gate->woken_ = std::max(gate->woken_, round);
    gate->wake_.notify_all();
  });
  lock.lock();
  gate->wake_.wait(lock, [&] { return gate->woken_ >= round || gate->stopping_ || gate->raised_; });
  gate->raised_ = false;
  const bool go_on = !gate->stopping_;
  lock.unlock();
  clock_.cancel(timer);  // harmless when it fired
  return go_on;
}

void LoopThread::stop() {
  {
    std::lock_guard lock(gate_->mutex_);
    gate_->stopping_ = true;
  }
  gate_->wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::optional<Error> LoopThread::failure() const {
  std::lock_guard lock(gate_->mutex_);
  return failure_;
}

InitResult LoopProcess::init(Process& self) {
  auto loop = setup_(self);
  if (!loop.ok()) return InitResult::error(loop.error());
  if (heartbeats_) heartbeat_ = heartbeats_->add(name_.empty() ? self.path() : name_, self.clock().now());
  // A loop that ends tells its process at once (a message from the loop's
  // thread), instead of the process asking it every so often.
  auto on_failure = [&runtime = self.runtime(), pid = self.pid()] { runtime.send(pid, Ended{}); };
  thread_ = std::make_unique<LoopThread>(std::move(loop.value()), self.clock(), heartbeat_, on_failure);
  return InitResult::ok();
}

void LoopProcess::handle(Process& self, Message& m) {
  if (!std::any_cast<Ended>(&m)) return unexpected(self, m);
  if (auto failed = thread_->failure()) return self.exit(ExitReason::error(failed->describe()));
}

void LoopProcess::terminate(Process&, const ExitReason&) {
  if (heartbeats_ && heartbeat_) heartbeats_->remove(heartbeat_);  // a stopping loop may take its time
  // Joined and destroyed here: the thread's failure notice holds this process's pid.
  if (thread_) thread_->stop();
  thread_.reset();
}

void LoopProcess::describe(nlohmann::json& out) const {
  if (thread_ && thread_->loop().describe) thread_->loop().describe(out);
}

}  // namespace edgepoll::supervision
