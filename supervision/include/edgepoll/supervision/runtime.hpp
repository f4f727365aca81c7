#pragma once
// The runtime: processes over a shared io_context, the clock their timers use,
// the name registry and the observers of supervision reports.
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "edgepoll/supervision/behaviour.hpp"
#include "edgepoll/supervision/clock.hpp"
#include "edgepoll/supervision/observer.hpp"
#include "edgepoll/supervision/pid.hpp"
#include "edgepoll/supervision/registry.hpp"

namespace edgepoll::supervision {

class Runtime {
 public:
  // `clock` must outlive the runtime. A LoggingObserver is installed unless
  // `log_reports` is false (benchmarks measure the runtime, not the logger).
  Runtime(boost::asio::io_context& io, Clock& clock, bool log_reports = true);
  // Processes still alive are torn down without signals (links between them
  // would otherwise keep each other in memory). Destroy the runtime only once
  // no thread runs the io_context any more; a tidy program stops its root first.
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  boost::asio::io_context& io() { return io_; }
  Clock& clock() { return clock_; }
  Registry& registry() { return registry_; }

  void add_observer(std::shared_ptr<Observer> observer);
  void report(const Report& report);

  // Starts a process linked to nobody (a tree's root); init runs now.
  // Ok(empty Pid) when init said ignore.
  Result<Pid> spawn(std::shared_ptr<Behaviour> behaviour, std::string path);
  // From outside any process: delivers a message / an exit signal (exit/2).
  void send(const Pid& to, Message message);
  void exit(const Pid& target, ExitReason reason);
  // Calls `fn` (on an io_context thread) once `target` has died.
  void on_exit(const Pid& target, std::function<void(const ExitReason&)> fn);

  std::size_t live_processes() const { return live_.load(std::memory_order_relaxed); }

  // Single-threaded driving for tests and tools: runs ready handlers until
  // none is left; with a FakeClock, advance() also fires timers in order.
  std::size_t settle();
  void advance(Duration d);

 private:
  friend class Process;
  Result<Pid> start(std::shared_ptr<Process> process, const Pid& parent);
  std::uint64_t next_id() { return next_id_.fetch_add(1, std::memory_order_relaxed); }
  void process_started(Process& process);
  void process_died(Process& process);
  void unlist(Process& process);

  boost::asio::io_context& io_;
  Clock& clock_;
  Registry registry_;
  std::atomic<std::uint64_t> next_id_{1};
  std::atomic<std::size_t> live_{0};
  std::mutex processes_mutex_;
  Process* first_process_ = nullptr;  // intrusive list of live processes
  mutable std::mutex observers_mutex_;
  std::vector<std::shared_ptr<Observer>> observers_;
};

}  // namespace edgepoll::supervision
