#include "edgepoll/supervision/loop_process.hpp"

namespace edgepoll::supervision {


namespace {
constexpr auto kCheckEvery = std::chrono::milliseconds(500);
constexpr auto kLongestWait = std::chrono::milliseconds(100);  // stop() is noticed within this
}  // namespace

LoopThread::LoopThread(Loop loop, Clock& clock, std::shared_ptr<Heartbeat> heartbeat)
    : loop_(std::move(loop)), clock_(clock), heartbeat_(std::move(heartbeat)), thread_([this] { run(); }) {}

LoopThread::~LoopThread() { stop(); }

void LoopThread::run() {
  for (;;) {
    if (heartbeat_) heartbeat_->beat(clock_.now());
    auto delay = loop_.step();
    std::unique_lock lock(mutex_);
    if (!delay.ok()) {
      failure_ = delay.error();
      break;
    }
    if (stopping_) break;
    wake_.wait_for(lock, std::min<Duration>(delay.value(), kLongestWait));
    if (stopping_) break;
  }
  if (loop_.finish) loop_.finish();
}

void LoopThread::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::optional<Error> LoopThread::failure() const {
  std::lock_guard lock(mutex_);
  return failure_;
}

InitResult LoopProcess::init(Process& self) {
  auto loop = setup_(self);
  if (!loop.ok()) return InitResult::error(loop.error());
  if (heartbeats_) heartbeat_ = heartbeats_->add(name_.empty() ? self.path() : name_, self.clock().now());
  thread_ = std::make_unique<LoopThread>(std::move(loop.value()), self.clock(), heartbeat_);
  self.send_after(kCheckEvery, Check{});
  return InitResult::ok();
}

void LoopProcess::handle(Process& self, Message& m) {
  if (!std::any_cast<Check>(&m)) return unexpected(self, m);
  if (auto failed = thread_->failure()) return self.exit(ExitReason::error(failed->describe()));
  self.send_after(kCheckEvery, Check{});
}

void LoopProcess::terminate(Process&, const ExitReason&) {
  if (heartbeats_ && heartbeat_) heartbeats_->remove(heartbeat_);  // a stopping loop may take its time
  if (thread_) thread_->stop();
}

void LoopProcess::describe(nlohmann::json& out) const {
  if (thread_ && thread_->loop().describe) thread_->loop().describe(out);
}

}  // namespace edgepoll::supervision
