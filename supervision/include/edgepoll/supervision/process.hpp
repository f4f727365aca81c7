#pragma once
// A process: a behaviour, a mailbox executed on its own Asio strand, links,
// monitors and trap_exit. Methods documented "own strand" may only be called
// from the process's behaviour callbacks; the others are safe from anywhere.
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "edgepoll/supervision/behaviour.hpp"
#include "edgepoll/supervision/clock.hpp"
#include "edgepoll/supervision/message.hpp"
#include "edgepoll/supervision/pid.hpp"
#include "edgepoll/supervision/pid_set.hpp"

namespace edgepoll::supervision {

class Runtime;

class Process final : public std::enable_shared_from_this<Process> {
 public:
  enum class State : std::uint8_t { starting, running, dead };

  Process(Runtime& runtime, std::uint64_t id, std::string path, std::shared_ptr<Behaviour> behaviour);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  // ---- identity (any thread)
  std::uint64_t id() const { return id_; }
  const std::string& path() const { return path_; }
  Pid pid() { return Pid(shared_from_this()); }
  State state() const { return state_.load(std::memory_order_acquire); }
  bool alive() const { return state() != State::dead; }
  Runtime& runtime() const { return runtime_; }
  // The behaviour while the process lives (for snapshots); null after death.
  std::shared_ptr<Behaviour> behaviour() const;

  // ---- own strand: what a behaviour does to itself and others
  Pid self() { return pid(); }
  const Pid& parent() const { return parent_; }
  Clock& clock() const;
  void send(const Pid& to, Message message) const;
  // Ends this process with `reason` once the current callback returns.
  void exit(ExitReason reason);
  // Sends an exit signal to another process (Erlang's exit/2).
  void exit(const Pid& target, ExitReason reason) const;
  void trap_exits(bool on) { trap_exits_ = on; }
  bool traps_exits() const { return trap_exits_; }
  void link(const Pid& other);
  void unlink(const Pid& other);
  MonitorRef monitor(const Pid& other);
  void demonitor(MonitorRef ref);
  // Starts a child linked to this process; init runs now (OTP's start_link).
  // Ok(Pid) when running, Ok(empty Pid) when its init said ignore, or the error.
  Result<Pid> spawn_link(std::shared_ptr<Behaviour> behaviour, std::string path);
  // Delivers `message` to this process after `delay` (on the runtime's clock).
  TimerId send_after(Duration delay, Message message);
  void cancel_timer(TimerId id);
  // Selective receive: while set, messages the predicate rejects wait, in order,
  // and are handled once it is cleared (OTP's receive with a pattern).
  void set_receive_filter(std::function<bool(const Message&)> accepts);
  void clear_receive_filter();

  // ---- any thread: the runtime's mailbox and signal entry points
  void deliver(Message message);
  void deliver_exit_signal(const Pid& from, ExitReason reason, bool via_link);

 private:
  friend class Runtime;
  // Runs `fn` on the strand; while the process is starting, holds it until init ends.
  void post(std::function<void(Process&)> fn);
  // Ends init: releases held work, or discards the process when init failed.
  void finish_init(bool started);
  void handle_message(Message& message);
  // SysPing / SysSuspend / SysResume; true when `message` was one.
  bool handle_system_message(Message& message);
  void dispatch_to_behaviour(Message& message);
  void after_callback();
  void die(const ExitReason& reason, bool run_terminate = true);
  void add_link_from_peer(const Pid& peer);
  void remove_link_from_peer(const Pid& peer);
  void add_monitor_from_peer(MonitorRef ref, const Pid& watcher);
  void remove_monitor_from_peer(MonitorRef ref);
  void drain_postponed();
  // Drops every reference this process holds, without signalling anyone
  // (used by ~Runtime for processes still alive at the end).
  void teardown();

  Runtime& runtime_;
  const std::uint64_t id_;
  const std::string path_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  std::atomic<State> state_{State::starting};

  mutable std::mutex mutex_;  // guards behaviour_ (snapshots) and held_
  std::shared_ptr<Behaviour> behaviour_;
  std::vector<std::function<void(Process&)>> held_;  // work sent during init

  // Own strand only:
  Pid parent_;
  bool trap_exits_ = false;
  bool in_callback_ = false;
  std::unique_ptr<ExitReason> pending_exit_;
  PidSet links_;
  std::vector<std::pair<MonitorRef, Pid>> monitors_;      // processes I watch
  std::vector<std::pair<MonitorRef, Pid>> monitored_by_;  // processes watching me
  std::vector<TimerId> timers_;
  std::function<bool(const Message&)> receive_filter_;
  // Neither container allocates while empty (a std::deque allocates a 512-byte
  // block even then): both are empty for nearly every process, and a device
  // runs three.
  std::list<Message> postponed_;    // selective receive takes from the middle
  bool suspended_ = false;          // SysSuspend
  std::vector<Message> suspended_held_;
  // Runtime's list of live processes (guarded by the runtime's mutex).
  Process* prev_live_ = nullptr;
  Process* next_live_ = nullptr;
  bool listed_ = false;
};

}  // namespace edgepoll::supervision
