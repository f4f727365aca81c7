#include "edgepoll/pollers/device_state_machine.hpp"

#include <algorithm>

namespace edgepoll::pollers {

std::string_view DeviceStateMachine::state_name(State state) {
  switch (state) {
    case State::connecting: return "connecting";
    case State::polling: return "polling";
    case State::degraded: return "degraded";
    case State::backoff: return "backoff";
  }
  return "?";
}

DeviceStateMachine::DeviceStateMachine(const Clock& clock,
                                       std::shared_ptr<const DeviceConfig> config,
                                       unsigned max_consecutive_failures)
    : decoder_(config),
      breaker_(clock, config->breaker),
      max_consecutive_failures_(std::max(1u, max_consecutive_failures)) {}

bool DeviceStateMachine::begin_poll() {
  ++counters_.ticks;
  if (in_flight_) {
    // Never two polls of one device at once: a slow device is not piled on.
    ++counters_.skipped_in_flight;
    return false;
  }
  if (!breaker_.allow()) {
    ++counters_.skipped_open;
    return false;
  }
  in_flight_ = true;
  ++counters_.polls;
  return true;
}

bool DeviceStateMachine::failed(const Error& error) {
  ++counters_.failed;
  ++counters_.errors_by_code[error.code];
  const bool probe = breaker_.state() == BreakerState::half_open;
  breaker_.record_failure();
  if (breaker_.state() == BreakerState::open) state_ = State::backoff;
  else if (state_ != State::connecting) state_ = State::degraded;
  if (!probe) return false;
  ++counters_.failed_probes;
  return ++consecutive_failed_probes_ >= max_consecutive_failures_;
}

PollReport DeviceStateMachine::on_response(Result<FetchResponse> response, std::int64_t timestamp_ms) {
  return respond(std::move(response), timestamp_ms);
}

PollReport DeviceStateMachine::on_response(Result<ModbusResponse> response, std::int64_t timestamp_ms) {
  return respond(std::move(response), timestamp_ms);
}

PollReport DeviceStateMachine::on_response(Result<SnmpResponse> response, std::int64_t timestamp_ms) {
  return respond(std::move(response), timestamp_ms);
}

template <class Response>
PollReport DeviceStateMachine::respond(Result<Response> response, std::int64_t timestamp_ms) {
  in_flight_ = false;
  PollReport report;
  if (!response) {
    consecutive_decode_failures_ = 0;
    report.error = response.take_error();
    report.give_up = failed(*report.error);
    return report;
  }
  auto decoded = decoder_.decode(*response);
  if (!decoded) {
    ++counters_.decode_errors;
    report.error = decoded.take_error();
    const bool probes_exhausted = failed(*report.error);
    report.give_up = ++consecutive_decode_failures_ >= max_consecutive_failures_ || probes_exhausted;
    return report;
  }
  consecutive_decode_failures_ = 0;
  consecutive_failed_probes_ = 0;
  ++counters_.succeeded;
  breaker_.record_success(response->elapsed);
  report.field_errors = std::move(decoded->field_errors);
  counters_.field_errors += report.field_errors.size();
  for (const auto& e : report.field_errors) ++counters_.errors_by_code[e.code];
  report.readings.reserve(decoded->readings.size());
  for (auto& r : decoded->readings)
    report.readings.push_back(PolledReading{device_id(), timestamp_ms, std::move(r)});
  const bool healthy = breaker_.state() == BreakerState::closed && report.field_errors.empty();
  state_ = healthy ? State::polling : State::degraded;
  return report;
}

void DeviceStateMachine::on_connection_lost() {
  if (in_flight_) breaker_.abandon();
  in_flight_ = false;
  state_ = State::connecting;
}

}  // namespace edgepoll::pollers
