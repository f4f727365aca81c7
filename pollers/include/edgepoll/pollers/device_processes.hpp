#pragma once
// The two workers of one device subtree (rest_for_one, started in this order):
//   fsm         poll schedule, circuit breaker, decode, state; emits readings
//   connection  the transport session: one request at a time, jittered backoff
// The FSM starts first so that a dying connection restarts alone and the FSM
// keeps its state (accumulated counters, breaker, schedule phase) across
// reconnects, while a dying FSM takes the connection with it (seed 002).
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "edgepoll/pollers/device_config.hpp"
#include "edgepoll/pollers/device_state_machine.hpp"
#include "edgepoll/pollers/poll_schedule.hpp"
#include "edgepoll/pollers/poller_context.hpp"
#include "edgepoll/supervision/backoff.hpp"
#include "edgepoll/supervision/child_spec.hpp"
#include "edgepoll/supervision/process.hpp"

namespace edgepoll::pollers {

// Messages between the two.
struct PollRequest {
  supervision::Pid reply_to;
};
struct PollResult {
  Result<FetchResponse> response;
};
struct PollBusy {};  // the connection is mid-request or backing off
struct PollNow {};   // an operator asked for a poll now (outside the schedule)

// The process around a DeviceStateMachine (which holds the device's state,
// breaker, decoding and sequence): it owns the schedule, talks to the
// connection, hands readings on, and escalates to the supervisor.
class DeviceFsm final : public supervision::Behaviour {
 public:
  DeviceFsm(std::shared_ptr<const DeviceConfig> config, PollerContext context);
  supervision::InitResult init(supervision::Process& self) override;
  void handle(supervision::Process& self, supervision::Message& message) override;
  void terminate(supervision::Process& self, const supervision::ExitReason& reason) override;
  void describe(nlohmann::json& out) const override;

 private:
  struct Due {
    supervision::TimePoint at;
  };
  void poll(supervision::Process& self);
  template <class Response>
  void on_result(supervision::Process& self, Result<Response>& response);
  // Logs state changes once (not once per poll) and refreshes what describe() shows.
  void after_event(DeviceStateMachine::State before, const std::optional<Error>& error);
  // The sibling connection, looked up by name only when the one known is gone
  // (a restarted connection is a new process): not a registry lookup per poll.
  std::optional<supervision::Pid> current_connection(supervision::Process& self);

  std::shared_ptr<const DeviceConfig> config_;
  PollerContext context_;
  std::optional<DeviceStateMachine> machine_;
  std::unique_ptr<PollSchedule> schedule_;
  bool in_flight_ = false;
  supervision::TimePoint in_flight_since_{};
  std::string connection_name_;  // made once: the registry name of the sibling
  supervision::Pid connection_;
  mutable std::mutex describe_mutex_;  // describe() runs on other threads
  DeviceStateMachine::State shown_state_ = DeviceStateMachine::State::connecting;
  BreakerState shown_breaker_ = BreakerState::closed;
  std::uint64_t shown_polls_ = 0, shown_failures_ = 0;
  std::string last_error_;
};

class DeviceConnection final : public supervision::Behaviour {
 public:
  DeviceConnection(std::shared_ptr<const DeviceConfig> config, PollerContext context);
  supervision::InitResult init(supervision::Process& self) override;
  void handle(supervision::Process& self, supervision::Message& message) override;
  void terminate(supervision::Process& self, const supervision::ExitReason& reason) override;

 private:
  struct Fetched {
    Result<FetchResponse> response;
  };
  std::shared_ptr<const DeviceConfig> config_;
  PollerContext context_;
  std::optional<FetchRequest> request_;
  std::optional<supervision::FullJitterBackoff> backoff_;
  supervision::TimePoint not_before_{};
  std::optional<RequestId> in_flight_;
  supervision::Pid waiting_;
  unsigned consecutive_failures_ = 0;
};

// The device subtree's spec: rest_for_one [fsm, connection] with the device's
// own intensity (default 3 restarts in 30 s).
supervision::SupervisorSpec device_subtree(std::shared_ptr<const DeviceConfig> config, PollerContext context);

// Registry name of a device's connection, so the FSM finds the current one.
std::string connection_name(const std::string& device_path);
// The same for a process of the subtree (fsm or connection), from its own path.
std::string sibling_connection_name(const std::string& process_path);
// What every protocol's connection does last in its init: its reconnect
// backoff (full jitter from 200 ms up to the device's interval, at least 5 s,
// seeded per device and process) and its registry name, by which the FSM
// finds the current connection.
supervision::InitResult finish_connection_init(supervision::Process& self, const DeviceConfig& config,
                                               std::optional<supervision::FullJitterBackoff>& backoff);

}  // namespace edgepoll::pollers
