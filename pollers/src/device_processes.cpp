#include "edgepoll/pollers/device_processes.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "edgepoll/pollers/modbus/modbus_session.hpp"
#include "edgepoll/pollers/snmp/snmp_session.hpp"
#include "edgepoll/supervision/runtime.hpp"
#include "protocols.hpp"

namespace edgepoll::pollers {

using namespace supervision;

std::string connection_name(const std::string& device_path) { return device_path + "/connection"; }
std::string sibling_connection_name(const std::string& process_path) {
  return connection_name(process_path.substr(0, process_path.rfind('/')));
}

InitResult finish_connection_init(Process& self, const DeviceConfig& config,
                                  std::optional<supervision::FullJitterBackoff>& backoff) {
  backoff.emplace(std::chrono::milliseconds(200), std::max<Duration>(config.interval, std::chrono::seconds(5)),
                  std::hash<std::string>{}(config.id) ^ static_cast<std::uint64_t>(self.id()));
  if (auto named = self.runtime().registry().register_name(sibling_connection_name(self.path()), self.self());
      !named.ok()) {
    return InitResult::error(named.error());
  }
  return InitResult::ok();
}

// ---- fsm -------------------------------------------------------------------------

DeviceFsm::DeviceFsm(std::shared_ptr<const DeviceConfig> config, PollerContext context)
    : config_(std::move(config)), context_(std::move(context)) {}

InitResult DeviceFsm::init(Process& self) {
  machine_.emplace(self.clock(), config_, context_.max_consecutive_failures);
  // The phase comes from the device id: stable across restarts, spread across devices.
  schedule_ = std::make_unique<PollSchedule>(self.clock(), config_->interval, std::hash<std::string>{}(config_->id));
  schedule_->start([pid = self.self()](TimePoint due) { pid.get()->deliver(Due{due}); },
                   [counters = context_.counters] { counters->shed_late++; });
  return InitResult::ok();
}

void DeviceFsm::terminate(Process&, const ExitReason&) {
  if (schedule_) schedule_->stop();
}

void DeviceFsm::handle(Process& self, Message& message) {
  if (std::any_cast<Due>(&message) || std::any_cast<PollNow>(&message)) return poll(self);
  if (auto* result = std::any_cast<PollResult>(&message)) return on_result(self, result->response);
  if (auto* result = std::any_cast<ModbusPollResult>(&message)) return on_result(self, result->response);
  if (auto* result = std::any_cast<SnmpPollResult>(&message)) return on_result(self, result->response);
  if (std::any_cast<PollBusy>(&message)) {
    // The connection refused the request (mid-request or backing off): the
    // poll is off, the machine's state stays.
    in_flight_ = false;
    machine_->on_connection_lost();
    context_.counters->skipped_busy++;
    return;
  }
  unexpected(self, message);
}

void DeviceFsm::poll(Process& self) {
  // A connection killed mid-request never answers; after its timeout (and a
  // margin) the request is taken as lost.
  if (in_flight_ && self.clock().now() - in_flight_since_ >= config_->timeout + std::chrono::seconds(1)) {
    in_flight_ = false;
    machine_->on_connection_lost();
  }
  if (in_flight_) {
    context_.counters->skipped_busy++;
    return;
  }
  if (!machine_->begin_poll()) {
    // The breaker holds this tick back. Ticks keep their slots (no hold on the
    // schedule) so that every poll not sent is counted, and the probe goes out
    // at the first slot after the open time.
    context_.counters->skipped_open++;
    after_event(machine_->state(), std::nullopt);
    return;
  }
  auto connection = current_connection(self);
  if (!connection) {  // (re)connecting: the next tick tries again
    machine_->on_connection_lost();
    return;
  }
  in_flight_ = true;
  in_flight_since_ = self.clock().now();
  self.send(*connection, PollRequest{self.self()});
}

std::optional<Pid> DeviceFsm::current_connection(Process& self) {
  if (connection_.valid() && connection_.alive()) return connection_;
  if (connection_name_.empty()) connection_name_ = sibling_connection_name(self.path());
  auto found = self.runtime().registry().whereis(connection_name_);
  connection_ = found.value_or(Pid{});
  return found;
}

template <class Response>
void DeviceFsm::on_result(Process& self, Result<Response>& response) {
  in_flight_ = false;
  const auto before = machine_->state();
  const bool transport_failed = !response.ok();
  PollReport report = machine_->on_response(std::move(response), supervision::wall_clock_ms());
  context_.counters->polls++;
  if (report.error) (transport_failed ? context_.counters->poll_failures : context_.counters->decode_failures)++;
  context_.counters->field_errors += report.field_errors.size();
  context_.counters->readings += report.readings.size();
  schedule_->set_interval_factor(machine_->breaker().interval_factor());
  after_event(before, report.error);
  if (!report.error && context_.activity) context_.activity->polled(config_->id, self.clock().now());
  if (!report.readings.empty() && context_.sink) {
    DeviceReadings out{config_->id, std::chrono::system_clock::time_point(
                                        std::chrono::milliseconds(report.readings.front().timestamp_ms)),
                       {}};
    out.readings.reserve(report.readings.size());
    for (auto& r : report.readings) out.readings.push_back(std::move(r.reading));
    context_.sink->submit(std::move(out));
  }
  // Escalation (the rule is in device_state_machine.hpp): the breaker holds a
  // failing device by itself; this process ends only when the machine gives up
  // (N undecodable bodies, or N failed half-open probes, in a row), so that the
  // device's supervisor counts it, and a device that keeps crashing reaches its
  // intensity and is quarantined by the config manager.
  if (report.give_up) {
    return self.exit(ExitReason::error("device " + config_->id + " failed " +
                                       std::to_string(context_.max_consecutive_failures) +
                                       (transport_failed ? " breaker probes" : " times to send a decodable body") +
                                       " in a row; last: " + report.error->describe()));
  }
}

void DeviceFsm::after_event(DeviceStateMachine::State before, const std::optional<Error>& error) {
  using State = DeviceStateMachine::State;
  const auto now = machine_->state();
  std::lock_guard lock(describe_mutex_);
  if (error) last_error_ = error->describe();
  if (now != before) {
    if (now == State::polling && before != State::connecting) {
      spdlog::info("device={} event=recovered state=polling", config_->id);
    } else if (now == State::degraded || now == State::backoff) {
      // Once per episode, not once per poll: 10,000 devices must not flood the journal.
      spdlog::warn("device={} event={} error={}", config_->id, DeviceStateMachine::state_name(now), last_error_);
    }
  }
  shown_state_ = now;
  shown_breaker_ = machine_->breaker().state();
  shown_polls_ = machine_->counters().polls;
  shown_failures_ = machine_->counters().failed;
}

void DeviceFsm::describe(nlohmann::json& out) const {
  std::lock_guard lock(describe_mutex_);
  out["device"] = config_->id;
  out["device_state"] = DeviceStateMachine::state_name(shown_state_);
  out["breaker"] = breaker_state_name(shown_breaker_);
  out["polls"] = shown_polls_;
  out["failures"] = shown_failures_;
  if (!last_error_.empty()) out["last_error"] = last_error_;
}

// ---- connection --------------------------------------------------------------------

DeviceConnection::DeviceConnection(std::shared_ptr<const DeviceConfig> config, PollerContext context)
    : config_(std::move(config)), context_(std::move(context)) {}

InitResult DeviceConnection::init(Process& self) {
  auto auth = load_auth(config_->auth, config_->id);
  if (!auth.ok()) return InitResult::error(auth.error());
  request_ = FetchRequest::for_device(*config_, std::move(auth.value()));
  return finish_connection_init(self, *config_, backoff_);
}

void DeviceConnection::terminate(Process& self, const ExitReason&) {
  if (!in_flight_) return;
  if (context_.transport) context_.transport->cancel(*in_flight_);
  self.send(waiting_, PollBusy{});  // frees the FSM at once instead of after the timeout
}

void DeviceConnection::handle(Process& self, Message& message) {
  if (auto* request = std::any_cast<PollRequest>(&message)) {
    if (in_flight_ || self.clock().now() < not_before_) {
      self.send(request->reply_to, PollBusy{});
      return;
    }
    waiting_ = request->reply_to;
    in_flight_ = context_.transport->fetch(*request_, [pid = self.self()](Result<FetchResponse> r) {
      pid.get()->deliver(Fetched{std::move(r)});
    });
    return;
  }
  if (auto* fetched = std::any_cast<Fetched>(&message)) {
    in_flight_.reset();
    if (fetched->response.ok()) {
      consecutive_failures_ = 0;
      backoff_->reset();
      self.send(waiting_, PollResult{std::move(fetched->response)});
      return;
    }
    Error error = fetched->response.error();
    self.send(waiting_, PollResult{error});
    not_before_ = self.clock().now() + backoff_->next();  // full jitter inside the connection
    if (++consecutive_failures_ >= context_.max_consecutive_failures) {
      self.exit(ExitReason::error("device " + config_->id + ": " + std::to_string(consecutive_failures_) +
                                  " failed requests in a row; last: " + error.describe()));
    }
    return;
  }
  unexpected(self, message);
}

// ---- subtree -------------------------------------------------------------------------

SupervisorSpec device_subtree(std::shared_ptr<const DeviceConfig> config, PollerContext context) {
  const auto period_s = std::max<std::int64_t>(
      1, std::chrono::duration_cast<std::chrono::seconds>(config->intensity.period).count());
  ChildFactory fsm = [config, context](const ChildStart&) -> Result<std::shared_ptr<Behaviour>> {
    return std::shared_ptr<Behaviour>(std::make_shared<DeviceFsm>(config, context));
  };
  ChildFactory connection = detail::connection_factory(config, context);
  return SupervisorSpec{{Strategy::rest_for_one, static_cast<int>(config->intensity.max_restarts),
                         static_cast<int>(period_s)},
                        {worker_child("fsm", fsm), worker_child("connection", connection)}};
}

}  // namespace edgepoll::pollers
