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
// Error codes: control.malformed (not a JSON object), control.unknown_op,
// control.unknown_field, control.missing_field, control.type, and from the
// server control.too_large (longer than [control] max_request_bytes).
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
  config_overlay_clear
};

std::string_view to_string(ControlOp op);

struct ControlRequest {
  ControlOp op = ControlOp::device_poll_now;
  std::string device;  // device.*; config.*: one device (config.show: empty for all of them)
  std::string key;     // dlq.*: one dead letter (empty with all)
  bool all = false;    // dlq.*: every dead letter; config.overlay_clear: the whole overlay
  std::string reason;  // dlq.drop: why, for the log

  static Result<ControlRequest> parse(std::string_view line);
};

// The answer lines.
nlohmann::json control_ok();
nlohmann::json control_error(const Error& error);

}  // namespace edgepoll::appliance
