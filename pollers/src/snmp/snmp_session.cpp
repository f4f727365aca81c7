#include "edgepoll/pollers/snmp/snmp_session.hpp"

#include <nlohmann/json.hpp>

#include "edgepoll/pollers/device_processes.hpp"
#include "edgepoll/supervision/runtime.hpp"

namespace edgepoll::pollers {

using namespace supervision;

SnmpSession::SnmpSession(std::shared_ptr<const DeviceConfig> config, PollerContext context)
    : config_(std::move(config)), context_(std::move(context)) {}

InitResult SnmpSession::init(Process& self) {
  if (context_.snmp == nullptr)
    return InitResult::error(make_error("pollers.snmp.no_transport", "no SNMP transport in this pollers context"));
  auto secrets = load_snmp_secrets(*config_->snmp, config_->id);
  if (!secrets) return InitResult::error(secrets.error());
  auto agent = context_.snmp->open(config_->id, *config_->snmp, *secrets, config_->timeout);
  if (!agent) return InitResult::error(agent.error());
  agent_ = std::move(agent.value());
  return finish_connection_init(self, *config_, backoff_);
}

void SnmpSession::terminate(Process& self, const ExitReason&) {
  if (agent_) agent_->cancel();
  if (in_flight_) self.send(waiting_, PollBusy{});  // frees the FSM at once instead of after the timeout
}

void SnmpSession::handle(Process& self, Message& message) {
  if (auto* request = std::any_cast<PollRequest>(&message)) {
    if (in_flight_ || self.clock().now() < not_before_) {
      self.send(request->reply_to, PollBusy{});
      return;
    }
    waiting_ = request->reply_to;
    in_flight_ = true;
    auto poll = std::make_shared<SnmpPoll>(
        *config_->snmp, *agent_, self.clock(),
        [pid = self.self(), n = ++poll_](Result<SnmpResponse> r) { pid.get()->deliver(Polled{n, std::move(r)}); });
    poll->start();
    return;
  }
  if (auto* polled = std::any_cast<Polled>(&message)) {
    if (polled->poll != poll_ || !in_flight_) return;
    in_flight_ = false;
    if (polled->response.ok()) {
      consecutive_failures_ = 0;
      backoff_->reset();
      self.send(waiting_, SnmpPollResult{std::move(polled->response)});
      return;
    }
    Error error = polled->response.error();
    self.send(waiting_, SnmpPollResult{error});
    not_before_ = self.clock().now() + backoff_->next();
    if (++consecutive_failures_ >= context_.max_consecutive_failures) {
      self.exit(ExitReason::error("device " + config_->id + ": " + std::to_string(consecutive_failures_) +
                                  " failed polls in a row; last: " + error.describe()));
    }
    return;
  }
  unexpected(self, message);
}

void SnmpSession::describe(nlohmann::json& out) const {
  const auto& s = *config_->snmp;
  out["agent"] = s.agent();
  out["snmp_version"] = snmp_version_name(s.version);
  out["scalars"] = s.metrics.size();
  out["tables"] = s.tables.size();
}

}  // namespace edgepoll::pollers
