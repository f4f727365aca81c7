#pragma once
// Every start, crash, restart, give-up and shutdown in the tree is a structured
// report (seed 003: nothing dies silently). Observers receive them from any
// strand, so implementations must be thread-safe; metrics is one observer,
// logging another.
#include <memory>
#include <string>
#include <string_view>

#include "edgepoll/supervision/exit_reason.hpp"

namespace edgepoll::supervision {

enum class ReportKind {
  child_started,          // a child's init returned ok (progress report)
  child_terminated,       // a child ended on its own (crash or exit); reason says which
  child_restarted,        // a terminated child runs again
  start_error,            // a child's start failed (factory or init error)
  shutdown_error,         // a child stopped by its supervisor ended with another reason
  restart_intensity_reached,  // give-up: the supervisor exits `shutdown` (OTP's
                              // reached_max_restart_intensity)
  supervisor_stopped,     // a supervisor ended (after stopping its children)
  unexpected_message,     // a process received a message it does not handle
};

std::string_view to_string(ReportKind kind);

struct Report {
  ReportKind kind;
  std::string supervisor;  // path of the supervisor (or of the process, for unexpected_message)
  std::string child;       // child id ("" when not about a child)
  ExitReason reason = ExitReason::normal();
  std::string detail;      // extra text: error message, message description
};

class Observer {
 public:
  virtual ~Observer() = default;
  virtual void on_report(const Report& report) = 0;
};

// Logs every report once through spdlog, with supervisor path, child id and reason.
class LoggingObserver final : public Observer {
 public:
  void on_report(const Report& report) override;
};

}  // namespace edgepoll::supervision
