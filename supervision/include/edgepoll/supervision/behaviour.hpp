#pragma once
// What a process does. The runtime calls these on the process's own strand, one
// at a time; they must not block (long work is chunked) because a process can
// only be stopped between two calls.
#include <nlohmann/json_fwd.hpp>
#include <string_view>

#include "edgepoll/supervision/message.hpp"
#include "edgepoll/supervision/result.hpp"

namespace edgepoll::supervision {

class Process;

// Outcome of init: running, `ignore` (OTP: not started, not an error), or an error.
class InitResult {
 public:
  static InitResult ok() { return InitResult(Kind::ok); }
  static InitResult ignore() { return InitResult(Kind::ignore); }
  static InitResult error(Error e) { return InitResult(Kind::error, std::move(e)); }
  InitResult(Status status)  // NOLINT: a Status converts naturally
      : InitResult(status.ok() ? Kind::ok : Kind::error, status.ok() ? Error{} : status.error()) {}

  bool is_ok() const { return kind_ == Kind::ok; }
  bool is_ignore() const { return kind_ == Kind::ignore; }
  bool is_error() const { return kind_ == Kind::error; }
  const Error& error() const { return error_; }

 private:
  enum class Kind { ok, ignore, error };
  explicit InitResult(Kind k, Error e = {}) : kind_(k), error_(std::move(e)) {}
  Kind kind_;
  Error error_;
};

class Behaviour {
 public:
  virtual ~Behaviour() = default;

  // Runs synchronously inside the starter (OTP's start_link): when it returns ok
  // the process is running. Messages sent to it meanwhile wait until then.
  virtual InitResult init(Process& self);
  // One message. Throwing crashes the process with the exception's text as reason.
  // ExitSignal arrives here only when the process traps exits; Down for monitors.
  virtual void handle(Process& self, Message& message);
  // The process ends with `reason` (not called when killed, as in OTP).
  virtual void terminate(Process& self, const ExitReason& reason);

  // "worker" or "supervisor"; supervisors also describe their children.
  virtual std::string_view kind() const { return "worker"; }
  // Adds this process's own fields to its entry of the tree snapshot. Called from
  // any thread: implementations guard what they read.
  virtual void describe(nlohmann::json& out) const;

 protected:
  // The catch-all: logs a message nobody expected (safely, whatever it holds)
  // and carries on. Behaviours call it from their own handle() for the rest.
  void unexpected(Process& self, const Message& message);
};

}  // namespace edgepoll::supervision
