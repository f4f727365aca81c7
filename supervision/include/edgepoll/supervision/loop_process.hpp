#pragma once
// A supervised process around a blocking client: the client runs a loop on a
// thread of its own (`step` returns the delay before the next step, or an
// error that ends the loop), and the process checks every half second whether
// the loop ended, crashing with its error so that the supervisor acts. Stopping
// the process stops the loop (then `finish` runs on the loop's thread).
#include <condition_variable>
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
  // `heartbeat` (optional) is beaten on `clock` after every step and wait.
  LoopThread(Loop loop, Clock& clock, std::shared_ptr<Heartbeat> heartbeat = nullptr);
  ~LoopThread();  // stop()
  void stop();
  std::optional<Error> failure() const;
  const Loop& loop() const { return loop_; }

 private:
  void run();
  Loop loop_;
  Clock& clock_;
  std::shared_ptr<Heartbeat> heartbeat_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
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
  struct Check {};
  Setup setup_;
  std::string name_;
  std::shared_ptr<Heartbeats> heartbeats_;
  std::shared_ptr<Heartbeat> heartbeat_;
  std::unique_ptr<LoopThread> thread_;
};

}  // namespace edgepoll::supervision
