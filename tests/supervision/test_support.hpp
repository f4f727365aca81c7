#pragma once
// A single-threaded runtime on a FakeClock: deterministic, no sleeps. settle()
// runs every ready handler; advance() moves time and fires timers in order.
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "edgepoll/supervision/process.hpp"
#include "edgepoll/supervision/runtime.hpp"
#include "edgepoll/supervision/supervisor.hpp"

namespace edgepoll::supervision::testing {

class RecordingObserver final : public Observer {
 public:
  void on_report(const Report& r) override {
    std::lock_guard lock(mutex_);
    reports_.push_back(r);
  }
  std::vector<Report> reports() const {
    std::lock_guard lock(mutex_);
    return reports_;
  }
  std::size_t count(ReportKind kind, const std::string& child = {}) const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& r : reports_) {
      if (r.kind == kind && (child.empty() || r.child == child)) ++n;
    }
    return n;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Report> reports_;
};

// A worker that records what it sees and does what it is told.
struct Probe {
  std::vector<std::string> events;
};

struct ExitWith {
  ExitReason reason;
};
struct Throw {
  std::string what;
};

class TestWorker : public Behaviour {
 public:
  explicit TestWorker(std::shared_ptr<Probe> probe = nullptr, bool trap = false)
      : probe_(std::move(probe)), trap_(trap) {}
  InitResult init(Process& self) override {
    self.trap_exits(trap_);
    record("init");
    return InitResult::ok();
  }
  void handle(Process& self, Message& m) override {
    if (auto* e = std::any_cast<ExitWith>(&m)) return self.exit(e->reason);
    if (auto* t = std::any_cast<Throw>(&m)) throw std::runtime_error(t->what);
    if (auto* x = std::any_cast<ExitSignal>(&m)) return record("exit:" + x->reason.to_string());
    if (auto* d = std::any_cast<Down>(&m)) return record("down:" + d->reason.to_string());
    if (auto* s = std::any_cast<std::string>(&m)) return record("msg:" + *s);
    unexpected(self, m);
  }
  void terminate(Process&, const ExitReason& r) override { record("terminate:" + r.to_string()); }

 private:
  void record(std::string e) {
    if (probe_) probe_->events.push_back(std::move(e));
  }
  std::shared_ptr<Probe> probe_;
  bool trap_;
};

inline ChildFactory worker_factory(std::shared_ptr<Probe> probe = nullptr) {
  return [probe](const ChildStart&) -> Result<std::shared_ptr<Behaviour>> {
    return std::shared_ptr<Behaviour>(std::make_shared<TestWorker>(probe));
  };
}

// A factory whose next `failures` starts fail (shared counter, so that tests can
// arm it after the tree is built).
inline ChildFactory flaky_factory(std::shared_ptr<int> failures) {
  return [failures](const ChildStart&) -> Result<std::shared_ptr<Behaviour>> {
    if (*failures > 0) {
      --*failures;
      return make_error("test.injected", "injected start failure");
    }
    return std::shared_ptr<Behaviour>(std::make_shared<TestWorker>());
  };
}

class TestNode {
 public:
  TestNode() : runtime(io, clock, /*log_reports=*/false) {
    runtime.add_observer(observer);
  }
  void settle() { runtime.settle(); }
  void advance(Duration d) { runtime.advance(d); }

  Pid start_root(SupervisorSpec spec, std::string name = "root") {
    auto pid = runtime.spawn(std::make_shared<Supervisor>(std::move(spec)), std::move(name));
    if (!pid.ok()) throw std::runtime_error(pid.error().describe());
    settle();
    return pid.value();
  }
  // The live child with this id under `sup`, or an empty Pid.
  Pid child(const Pid& sup, const std::string& id) const {
    for (const auto& c : which_children(sup)) {
      if (c.id == id) return c.pid;
    }
    return Pid{};
  }
  void crash(const Pid& pid, ExitReason reason = ExitReason::error("boom")) {
    runtime.send(pid, ExitWith{std::move(reason)});
    settle();
  }
  void kill(const Pid& pid) {
    runtime.exit(pid, ExitReason::kill());
    settle();
  }

  boost::asio::io_context io;
  FakeClock clock;
  Runtime runtime;
  std::shared_ptr<RecordingObserver> observer = std::make_shared<RecordingObserver>();
};

}  // namespace edgepoll::supervision::testing
