#pragma once
// Private pieces of the supervisor shared by its source files.
#include <unordered_map>

#include "edgepoll/supervision/supervisor.hpp"

namespace edgepoll::supervision {

struct Supervisor::Child {
  std::uint64_t serial = 0;                 // stable identity across restarts
  std::shared_ptr<const ChildSpec> spec;    // shared template for dynamic children
  std::string id;                           // spec->id, or the id given to start_child
  std::any args;                            // simple_one_for_one start arguments
  Pid pid;                                  // empty when not running
  bool restarting = false;                  // a failed restart waits for its retry
};

struct Supervisor::StopJob {
  std::uint64_t id = 0;
  std::vector<Child*> queue;  // children to stop, in stop order
  std::size_t next = 0;
  bool parallel = false;
  std::function<void(Process&)> then;
  std::unordered_map<MonitorRef, Child*> waiting;  // DOWN not yet received
  TimerId timer = 0;
};

namespace detail {

// Answers a request exactly once; if the request is dropped unanswered (the
// supervisor died first), it answers with a noproc error.
class Replier {
 public:
  explicit Replier(PidReply r) : pid_reply_(std::move(r)) {}
  explicit Replier(StatusReply r) : status_reply_(std::move(r)) {}
  ~Replier();
  Replier(const Replier&) = delete;
  Replier& operator=(const Replier&) = delete;
  void pid(Result<Pid> r);
  void status(Status s);

 private:
  PidReply pid_reply_;
  StatusReply status_reply_;
  bool done_ = false;
};

struct StartChildRequest {
  std::shared_ptr<ChildSpec> spec;  // static strategies
  ChildStart args;                  // simple_one_for_one
  std::shared_ptr<Replier> reply;
};
struct TerminateChildRequest {
  std::string id;
  std::shared_ptr<Replier> reply;
};
struct RestartChildRequest {
  std::string id;
  std::shared_ptr<Replier> reply;
};
struct DeleteChildRequest {
  std::string id;
  std::shared_ptr<Replier> reply;
};
struct StopRequest {
  ExitReason reason;
};
// OTP's try_again_restart: a failed restart is retried through the mailbox.
struct TryAgainRestart {
  std::uint64_t serial;
};
struct ShutdownTimeout {
  std::uint64_t job;
};

Error supervision_error(const std::string& code, const std::string& message);
// Serial numbers identify a child across restarts (its pid changes).
std::uint64_t next_child_serial();

}  // namespace detail
}  // namespace edgepoll::supervision
