#pragma once
// One request on the control socket: a JSON object on one line, validated like
// config (unknown fields refused, every error named). The answer is one JSON
// line too: {"ok": true, ...} or {"ok": false, "error": {"code", "message", "hint"}}.
//
//   {"op": "device.enable" | "device.disable" | "device.poll_now", "device": "meter-7"}
//   {"op": "dlq.replay", "key": "12"}            or {"op": "dlq.replay", "all": true}
//   {"op": "dlq.drop", "key": "12", "reason": "sensor replaced"}   ("all": true instead of "key")
//   {"op": "config.show"}                        or {"op": "config.show", "device": "meter-7"}
//   {"op": "config.overlay_clear", "device": "meter-7"}   or {"op": "config.overlay_clear", "all": true}
//
// The chaos hook (answered only with [chaos] enabled = true, else chaos.disabled):
//   {"op": "chaos.list"}                       the tree's processes: path, pid, type
//   {"op": "chaos.exit", "path": "root/deps/storage_pool", "reason": "crash" | "kill" | "shutdown"}
//   {"op": "chaos.fail", "dependency": "storage.busy" | "storage.disk_full" | "kafka.broker_error"
//                        | "device.connection", "device": "meter-7" (device.connection only;
//                        omitted: every device), "duration": "5s"}
//
// Error codes: control.malformed (not a JSON object), control.unknown_op,
// control.unknown_field, control.missing_field, control.type, control.value, and from the
// server control.too_large (longer than [control] max_request_bytes).
#include <chrono>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "edgepoll/supervision/result.hpp"

namespace edgepoll::appliance {

enum class ControlOp {
  device_enable,
  device_disable,
  device_poll_now,
  dlq_replay,
  dlq_drop,
  config_show,
  config_overlay_clear,
  chaos_list,
  chaos_exit,
  chaos_fail
};

// How chaos.exit ends a process: it crashes (an error reason), is killed (the
// untrappable signal), or exits `shutdown`.
enum class ChaosExit { crash, kill, shutdown };
// The dependencies chaos.fail makes fail, each at its seam.
enum class ChaosFault { storage_busy, storage_disk_full, kafka_broker_error, device_connection };
std::string_view to_string(ChaosExit e);
std::string_view to_string(ChaosFault f);

std::string_view to_string(ControlOp op);

struct ControlRequest {
  ControlOp op = ControlOp::device_poll_now;
  std::string device;  // device.*; config.*: one device (config.show: empty for all of them)
  std::string key;     // dlq.*: one dead letter (empty with all)
  bool all = false;    // dlq.*: every dead letter; config.overlay_clear: the whole overlay
  std::string reason;  // dlq.drop: why, for the log
  std::string path;    // chaos.exit: the process, e.g. "root/deps/storage_pool"
  ChaosExit exit = ChaosExit::crash;
  ChaosFault fault = ChaosFault::storage_busy;  // chaos.fail
  std::chrono::milliseconds duration{0};        // chaos.fail: 1 ms .. 1 h

  static Result<ControlRequest> parse(std::string_view line);
};

// The answer lines.
nlohmann::json control_ok();
nlohmann::json control_error(const Error& error);

}  // namespace edgepoll::appliance
