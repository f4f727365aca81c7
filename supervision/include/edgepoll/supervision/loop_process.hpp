#pragma once
// A supervised process around a blocking client: the client runs a loop on a
// thread of its own (`step` returns the delay before the next step, or an
// error that ends the loop). A loop that ends sends its process a message, and
// the process crashes with the loop's error so that the supervisor acts.
// Stopping the process stops the loop at once, also mid-wait (then `finish`
// runs on the loop's thread). The waits between steps are timers of the
// process's Clock, so that tests step the loop on a FakeClock.
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

struct Loop {
  std::function<Result<Duration>()> step;
  std::function<void()> finish;                    // optional
  std::function<void(nlohmann::json&)> describe;  // optional; called from any thread
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
  // Where the loop waits between steps, shared with the clock's wake-up timers.
  struct Gate {
    std::mutex mutex;
    std::condition_variable wake;
    bool stopping = false;
    std::uint64_t round = 0;  // of the current wait
    std::uint64_t woken = 0;  // the latest round a timer ended
  };
  std::shared_ptr<Gate> gate_ = std::make_shared<Gate>();
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
