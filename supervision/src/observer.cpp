#include "edgepoll/supervision/observer.hpp"

#include <spdlog/spdlog.h>

namespace edgepoll::supervision {

std::string_view to_string(ReportKind kind) {
  switch (kind) {
    case ReportKind::child_started: return "child_started";
    case ReportKind::child_terminated: return "child_terminated";
    case ReportKind::child_restarted: return "child_restarted";
    case ReportKind::start_error: return "start_error";
    case ReportKind::shutdown_error: return "shutdown_error";
    case ReportKind::restart_intensity_reached: return "reached_max_restart_intensity";
    case ReportKind::supervisor_stopped: return "supervisor_stopped";
    case ReportKind::unexpected_message: return "unexpected_message";
  }
  return "unknown";
}

void LoggingObserver::on_report(const Report& r) {
  // One line per event, key=value, so that journald and grep can both use it.
  const auto event = to_string(r.kind);
  switch (r.kind) {
    case ReportKind::child_started:
    case ReportKind::child_restarted:
      spdlog::info("supervision event={} supervisor={} child={}{}{}", event, r.supervisor, r.child,
                   r.detail.empty() ? "" : " detail=", r.detail);
      return;
    case ReportKind::supervisor_stopped:
      spdlog::info("supervision event={} supervisor={} reason={}", event, r.supervisor,
                   r.reason.to_string());
      return;
    case ReportKind::child_terminated:
      if (r.reason.is_clean()) {
        spdlog::info("supervision event={} supervisor={} child={} reason={}", event, r.supervisor,
                     r.child, r.reason.to_string());
      } else {
        spdlog::error("supervision event={} supervisor={} child={} reason={}", event,
                      r.supervisor, r.child, r.reason.to_string());
      }
      return;
    case ReportKind::unexpected_message:
      spdlog::warn("supervision event={} process={} message={}", event, r.supervisor, r.detail);
      return;
    case ReportKind::start_error:
    case ReportKind::shutdown_error:
    case ReportKind::restart_intensity_reached:
      spdlog::error("supervision event={} supervisor={} child={} reason={}{}{}", event,
                    r.supervisor, r.child, r.reason.to_string(),
                    r.detail.empty() ? "" : " detail=", r.detail);
      return;
  }
}

}  // namespace edgepoll::supervision
