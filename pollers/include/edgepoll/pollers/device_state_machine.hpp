#pragma once
// The plain state machine of one device, without the runtime: the `fsm` worker
// of a device subtree owns one and feeds it ticks and poll results.
//
//   connecting --ok--> polling --slow / field errors--> degraded
//       ^                 |  \--breaker trips--> backoff --probe ok--> polling
//       +-- connection lost (counters are kept: rest_for_one restarts the
//           connection, not this state)
//
// Readings leave unnumbered. The store is the one sequence authority: it
// assigns (device, seq), the stable id used downstream for idempotence, in the
// transaction that makes the reading durable (storage::Outbox::append), so a
// number can neither repeat after a crash nor be spent on a reading that never
// reached the disk, which a counter here could not promise.
//
// Who handles a failing device (each layer has one job, in this order):
//   1. the breaker: `breaker.failures` failed polls in a row open it; while it
//      is open, ticks are skipped (counted `breaker_open`), then one half-open
//      probe decides: success closes it, failure opens it again for twice as
//      long. A device that is down is polled less, and its state is kept.
//   2. the fsm crashes (give_up) only on what is a crash: `max_consecutive_failures`
//      (N) undecodable bodies in a row (polling less cannot fix a device that
//      answers garbage), or N failed half-open probes in a row (the breaker
//      alone did not bring it back). A broken invariant throws, as anywhere.
//   3. the device subtree's intensity counts those crashes and the
//      connection's own restarts; exhausted, the subtree ends alone.
//   4. the config manager quarantines the ended subtree and retries it after
//      full-jitter backoff (persisted, so a daemon restart keeps the wait).
// The breaker lives here, in the fsm, so it survives connection restarts
// (rest_for_one [fsm, connection]).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "edgepoll/pollers/circuit_breaker.hpp"
#include "edgepoll/pollers/decoder.hpp"
#include "edgepoll/pollers/device_decoder.hpp"
#include "edgepoll/pollers/device_config.hpp"
#include "edgepoll/pollers/http_fetcher.hpp"

namespace edgepoll::pollers {


struct PolledReading {
  std::string device_id;
  std::int64_t timestamp_ms = 0;  // wall clock, given by the caller
  Reading reading;
};

struct PollReport {
  std::vector<PolledReading> readings;
  std::optional<Error> error;      // the poll failed (transport or body)
  std::vector<Error> field_errors;  // some mapped fields did not decode
  // N undecodable bodies in a row, or N failed half-open probes in a row (see
  // the rule above): the fsm worker should exit with `error` so that its
  // supervisor's intensity (and then the config manager's quarantine) deals with it.
  bool give_up = false;
};

struct DeviceCounters {
  std::uint64_t ticks = 0;
  std::uint64_t polls = 0;
  std::uint64_t succeeded = 0;
  std::uint64_t failed = 0;
  std::uint64_t decode_errors = 0;
  std::uint64_t field_errors = 0;
  std::uint64_t skipped_in_flight = 0;  // tick while the previous poll still ran
  std::uint64_t skipped_open = 0;       // tick while the breaker was open
  std::uint64_t failed_probes = 0;      // half-open probes that failed (all time)
  std::map<std::string, std::uint64_t> errors_by_code;
};

class DeviceStateMachine {
 public:
  enum class State { connecting, polling, degraded, backoff };
  static std::string_view state_name(State state);

  // The config is shared with the device's processes (the decoder reads it).
  DeviceStateMachine(const Clock& clock, std::shared_ptr<const DeviceConfig> config,
                     unsigned max_consecutive_failures = 3);
  DeviceStateMachine(const Clock& clock, const DeviceConfig& config,
                     unsigned max_consecutive_failures = 3)
      : DeviceStateMachine(clock, std::make_shared<const DeviceConfig>(config),
                           max_consecutive_failures) {}

  // A schedule tick: true when a poll should go out now.
  bool begin_poll();
  PollReport on_response(Result<FetchResponse> response, std::int64_t timestamp_ms);
  PollReport on_response(Result<ModbusResponse> response, std::int64_t timestamp_ms);
  PollReport on_response(Result<SnmpResponse> response, std::int64_t timestamp_ms);
  // The poll never reached the device (the connection died, was busy or backing
  // off): no outcome is recorded, the state is kept.
  void on_connection_lost();

  State state() const { return state_; }
  const CircuitBreaker& breaker() const { return breaker_; }
  const DeviceCounters& counters() const { return counters_; }
  const std::string& device_id() const { return decoder_.device_id(); }

 private:
  // Records a failed poll; true when it was the N-th failed probe in a row.
  bool failed(const Error& error);
  template <class Response>
  PollReport respond(Result<Response> response, std::int64_t timestamp_ms);

  DeviceDecoder decoder_;  // of the device's protocol
  CircuitBreaker breaker_;
  State state_ = State::connecting;
  DeviceCounters counters_;
  bool in_flight_ = false;
  unsigned consecutive_decode_failures_ = 0;
  unsigned consecutive_failed_probes_ = 0;
  unsigned max_consecutive_failures_;
};

}  // namespace edgepoll::pollers
