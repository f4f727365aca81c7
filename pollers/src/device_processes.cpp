#include "edgepoll/pollers/device_processes.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "edgepoll/supervision/runtime.hpp"

namespace edgepoll::pollers {

using namespace supervision;

std::string_view device_state_name(DeviceState s) {
  switch (s) {
    case DeviceState::connecting: return "connecting";
    case DeviceState::polling: return "polling";
    case DeviceState::degraded: return "degraded";
    case DeviceState::backoff: return "backoff";
  }
  return "unknown";
}

std::string connection_name(const std::string& device_path) { return device_path + "/connection"; }

namespace {
std::string parent_path(const std::string& path) { return path.substr(0, path.rfind('/')); }
}  // namespace

// ---- fsm -------------------------------------------------------------------------

DeviceFsm::DeviceFsm(std::shared_ptr<const DeviceConfig> config, PollerContext context)
    : config_(std::move(config)),
      context_(std::move(context)),
      decoder_(config_->id, config_->metrics, DecoderLimits{config_->max_body, 64}) {}

InitResult DeviceFsm::init(Process& self) {
  breaker_.emplace(self.clock(), config_->breaker);
  // The phase comes from the device id: stable across restarts, spread across devices.
  schedule_ = std::make_unique<PollSchedule>(self.clock(), config_->interval, std::hash<std::string>{}(config_->id));
  schedule_->start([pid = self.self()](TimePoint due) { pid.get()->deliver(Due{due}); });
  return InitResult::ok();
}

void DeviceFsm::terminate(Process&, const ExitReason&) {
  if (schedule_) schedule_->stop();
}

void DeviceFsm::handle(Process& self, Message& message) {
  if (std::any_cast<Due>(&message) || std::any_cast<PollNow>(&message)) return poll(self);
  if (auto* result = std::any_cast<PollResult>(&message)) return on_result(self, *result);
  if (std::any_cast<PollBusy>(&message)) {
    in_flight_ = false;
    context_.counters->skipped_busy++;
    return;
  }
  unexpected(self, message);
}

void DeviceFsm::poll(Process& self) {
  // A connection killed mid-request never answers; after its timeout (and a
  // margin) the request is taken as lost.
  const auto lost_after = config_->timeout + std::chrono::seconds(1);
  if (in_flight_ && self.clock().now() - in_flight_since_ < lost_after) {
    context_.counters->skipped_busy++;
    return;
  }
  in_flight_ = false;
  if (!breaker_->allow()) {
    context_.counters->skipped_open++;
    state_ = DeviceState::backoff;
    schedule_->hold_until(breaker_->reopens_at());
    return;
  }
  auto connection = self.runtime().registry().whereis(connection_name(parent_path(self.path())));
  if (!connection) return;  // (re)connecting: the next tick tries again
  in_flight_ = true;
  in_flight_since_ = self.clock().now();
  self.send(*connection, PollRequest{self.self()});
}

void DeviceFsm::on_result(Process& self, PollResult& result) {
  in_flight_ = false;
  ++polls_;
  context_.counters->polls++;
  if (!result.response.ok()) {
    breaker_->record_failure();
    fail(self, result.response.error(), /*decode=*/false);
    if (breaker_->state() == BreakerState::open) {
      // Too many failed polls in a row, across connection restarts: give up and
      // let the device's supervisor count it, so that a dead device reaches its
      // intensity and the config manager quarantines it with backoff.
      self.exit(ExitReason::error("device " + config_->id + ": circuit breaker opened after " +
                                  std::to_string(config_->breaker.failure_threshold) +
                                  " failed polls; last: " + result.response.error().describe()));
    }
    return;
  }
  const FetchResponse& response = result.response.value();
  breaker_->record_success(response.elapsed);
  schedule_->set_interval_factor(breaker_->interval_factor());
  auto decoded = decoder_.decode(response.body);
  if (!decoded.ok()) return fail(self, decoded.error(), /*decode=*/true);
  consecutive_failures_ = 0;
  auto& outcome = decoded.value();
  context_.counters->field_errors += outcome.field_errors.size();
  context_.counters->readings += outcome.readings.size();
  {
    std::lock_guard lock(describe_mutex_);
    if (state_ != DeviceState::polling && state_ != DeviceState::connecting) {
      spdlog::info("device={} event=recovered state=polling", config_->id);
    }
    state_ = breaker_->state() == BreakerState::slowed ? DeviceState::degraded : DeviceState::polling;
  }
  if (context_.sink) {
    context_.sink->submit(DeviceReadings{config_->id, std::chrono::system_clock::now(), std::move(outcome.readings)});
  }
}

void DeviceFsm::fail(Process& self, const Error& error, bool decode) {
  ++failures_;
  (decode ? context_.counters->decode_failures : context_.counters->poll_failures)++;
  {
    std::lock_guard lock(describe_mutex_);
    last_error_ = error.describe();
    if (state_ != DeviceState::degraded) {
      // Logged once per episode, not once per poll: 10,000 devices must not flood the journal.
      spdlog::warn("device={} event=degraded error={}", config_->id, last_error_);
    }
    state_ = DeviceState::degraded;
  }
  // Transport failures are the connection's to escalate; bodies that keep
  // failing to decode are ours: give up and let the supervisor count it.
  if (decode && ++consecutive_failures_ >= context_.max_consecutive_failures) {
    self.exit(ExitReason::error("device " + config_->id + " sent " + std::to_string(consecutive_failures_) +
                                " undecodable responses in a row; last: " + error.describe()));
  }
}

void DeviceFsm::describe(nlohmann::json& out) const {
  std::lock_guard lock(describe_mutex_);
  out["device"] = config_->id;
  out["device_state"] = device_state_name(state_);
  out["polls"] = polls_;
  out["failures"] = failures_;
  if (!last_error_.empty()) out["last_error"] = last_error_;
}

// ---- connection --------------------------------------------------------------------

DeviceConnection::DeviceConnection(std::shared_ptr<const DeviceConfig> config, PollerContext context)
    : config_(std::move(config)), context_(std::move(context)) {}

InitResult DeviceConnection::init(Process& self) {
  auto auth = load_auth(config_->auth, config_->id);
  if (!auth.ok()) return InitResult::error(auth.error());
  request_ = FetchRequest::for_device(*config_, std::move(auth.value()));
  backoff_.emplace(std::chrono::milliseconds(200), std::max<Duration>(config_->interval, std::chrono::seconds(5)),
                   std::hash<std::string>{}(config_->id) ^ static_cast<std::uint64_t>(self.id()));
  if (auto named = self.runtime().registry().register_name(connection_name(parent_path(self.path())), self.self());
      !named.ok()) {
    return InitResult::error(named.error());
  }
  return InitResult::ok();
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
  ChildFactory connection = [config, context](const ChildStart&) -> Result<std::shared_ptr<Behaviour>> {
    return std::shared_ptr<Behaviour>(std::make_shared<DeviceConnection>(config, context));
  };
  return SupervisorSpec{{Strategy::rest_for_one, static_cast<int>(config->intensity.max_restarts),
                         static_cast<int>(period_s)},
                        {worker_child("fsm", fsm), worker_child("connection", connection)}};
}

}  // namespace edgepoll::pollers
