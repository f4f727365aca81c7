// A line from the operator's control socket through ControlRequest::parse,
// and the answer line the server would write for it. Beyond not crashing: a
// request that parsed has what its op needs (a device, or a key or all; a
// chaos.exit its path, a chaos.fail a bounded duration), and
// every answer serialises to one line of JSON.
#include <nlohmann/json.hpp>

#include "edgepoll/appliance/control_request.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace edgepoll;
  using appliance::ControlOp;
  auto request = appliance::ControlRequest::parse(fuzz::text(data, size));
  if (!request) {
    fuzz::require_readable(request.error());
    // The error echoes the client's bytes back: it must still be one line of JSON.
    const auto line = appliance::control_error(request.error()).dump(
        -1, ' ', false, nlohmann::json::error_handler_t::replace);
    fuzz::require(line.find('\n') == std::string::npos, "an answer is one line");
    return 0;
  }
  switch (request->op) {
    case ControlOp::device_enable:
    case ControlOp::device_disable:
    case ControlOp::device_poll_now:
      fuzz::require(!request->device.empty(), "a device op names its device");
      break;
    case ControlOp::dlq_replay:
    case ControlOp::dlq_drop:
      fuzz::require(request->all != !request->key.empty(), "a dlq op has a key or all, not both");
      break;
    case ControlOp::config_show:
      fuzz::require(!request->all, "config.show names one device or none");
      break;
    case ControlOp::config_overlay_clear:
      fuzz::require(request->all != !request->device.empty(), "an overlay clear has a device or all, not both");
      break;
    case ControlOp::chaos_list: break;
    case ControlOp::chaos_exit: fuzz::require(!request->path.empty(), "a chaos.exit names its process"); break;
    case ControlOp::chaos_fail:
      fuzz::require(request->duration.count() >= 1 && request->duration.count() <= 3600000,
                    "a chaos.fail lasts 1 ms .. 1 h");
      fuzz::require(request->device.empty() || request->fault == appliance::ChaosFault::device_connection,
                    "only device.connection names a device");
      break;
  }
  return 0;
}
