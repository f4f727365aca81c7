#pragma once
// A supervised process around a blocking client: the client runs a loop on a
// thread of its own (`step` returns the delay before the next step, or an
// error that ends the loop). A loop that ends sends its process a message, and
// the process crashes with the loop's error so that the supervisor acts.
// Stopping the process stops the loop at once, also mid-wait (then `finish`
// runs on the loop's thread). The waits between steps are timers of the
// process's Clock, so that tests step the loop on a FakeClock, and a LoopWake
// ends a wait early when someone knows the next step has work.
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include <nlohmann/json_fwd.hpp>

#include "edgepoll/supervision/heartbeats.hpp"

#include "edgepoll/supervision/process.hpp"

namespace edgepoll::supervision {

// Ends a loop's wait between steps early, from any thread: whoever knows the
// next step has work (new rows committed, a delivery report queued) raises it
// instead of the loop polling for it. A raise while a step runs is kept, so the
// next wait returns at once: no wake-up is lost.
class LoopWake {
 public:
  void raise();

 private:
  friend class LoopThread;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool raised_ = false;
  std::uint64_t round_ = 0;  // of the current wait
  std::uint64_t woken_ = 0;  // the latest round a timer ended
};

struct Loop {
  std::function<Result<Duration>()> step;
  std::function<void()> finish;                    // optional
  std::function<void(nlohmann::json&)> describe;  // optional; called from any thread
  // Optional: raised by others to end the wait before the next step early.
  std::shared_ptr<LoopWake> wake;
};

class LoopThread {
 public:
  // `heartbeat` (optional) is beaten on `clock` before every step;
  // `on_failure` (optional) runs on the loop's thread when a step failed.
  LoopThread(Loop loop, Clock& clock, std::shared_ptr<Heartbeat> heartbeat = nullptr,
             std::function<void()> on_failure = {});
  ~LoopThread();  // stop()
  void stop();
  std::optional<Error> failure() const;
  const Loop& loop() const { return loop_; }

 private:
  void run();
  // false when stopping.
  bool wait(Duration delay);
  Loop loop_;
  Clock& clock_;
  std::shared_ptr<Heartbeat> heartbeat_;
  std::function<void()> on_failure_;
  // Where the loop waits between steps, shared with the clock's wake-up timers
  // and with whoever raises it (Loop::wake when given, else one of its own).
  std::shared_ptr<LoopWake> gate_;
  std::optional<Error> failure_;
  std::thread thread_;
};

class LoopProcess final : public Behaviour {
 public:
  // `setup` builds the client in init (its error is the init error).
  using Setup = std::function<Result<Loop>(Process&)>;
  // With `heartbeats`, the loop thread reports its progress there as `name`
  // while the process lives (the watchdog watches it).
  explicit LoopProcess(Setup setup, std::string name = {}, std::shared_ptr<Heartbeats> heartbeats = nullptr)
      : setup_(std::move(setup)), name_(std::move(name)), heartbeats_(std::move(heartbeats)) {}
  InitResult init(Process& self) override;
  void handle(Process& self, Message& message) override;
  void terminate(Process& self, const ExitReason& reason) override;
  void describe(nlohmann::json& out) const override;

 private:
  struct Ended {};
  Setup setup_;
  std::string name_;
  std::shared_ptr<Heartbeats> heartbeats_;
  std::shared_ptr<Heartbeat> heartbeat_;
  std::unique_ptr<LoopThread> thread_;
};

}  // namespace edgepoll::supervision
