#include "edgepoll/pollers/modbus/modbus_session.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "edgepoll/pollers/device_processes.hpp"
#include "edgepoll/supervision/runtime.hpp"

namespace edgepoll::pollers {

using namespace supervision;

ModbusSession::ModbusSession(std::shared_ptr<const DeviceConfig> config, PollerContext context)
    : config_(std::move(config)),
      context_(std::move(context)),
      plan_(plan_requests(*config_->modbus)) {
  for (const auto& r : plan_)
    reads_.push_back(
        ModbusRead{config_->modbus->unit_id, r.table, r.address, r.count, config_->timeout});
}

InitResult ModbusSession::init(Process& self) {
  if (context_.modbus == nullptr)
    return InitResult::error(
        make_error("pollers.modbus.no_transport", "no Modbus transport in this pollers context"));
  const auto& m = *config_->modbus;
  gateway_ = context_.modbus->gateway(m.host, m.port, m.max_outstanding);
  return finish_connection_init(self, *config_, backoff_);
}

void ModbusSession::terminate(Process& self, const ExitReason&) {
  if (outstanding_ == 0) return;
  for (auto id : in_flight_) context_.modbus->cancel(id);
  self.send(waiting_, PollBusy{});  // frees the FSM at once instead of after the timeout
}

void ModbusSession::handle(Process& self, Message& message) {
  if (auto* request = std::any_cast<PollRequest>(&message)) {
    if (outstanding_ > 0 || self.clock().now() < not_before_) {
      self.send(request->reply_to, PollBusy{});
      return;
    }
    waiting_ = request->reply_to;
    ++poll_;
    response_ = ModbusResponse{std::vector<std::vector<std::uint16_t>>(reads_.size()),
                               std::vector<std::optional<Error>>(reads_.size()), Duration::zero()};
    in_flight_.clear();
    outstanding_ = reads_.size();
    for (std::size_t i = 0; i < reads_.size(); ++i) {
      in_flight_.push_back(context_.modbus->read(
          gateway_, reads_[i], [pid = self.self(), poll = poll_, i](Result<ModbusReply> r) {
            pid.get()->deliver(ReadDone{poll, i, std::move(r)});
          }));
    }
    return;
  }
  if (auto* done = std::any_cast<ReadDone>(&message)) {
    if (done->poll != poll_ || outstanding_ == 0) return;  // an answer to a poll already given up
    if (done->reply) {
      response_.elapsed = std::max(response_.elapsed, done->reply->elapsed);
      response_.blocks[done->index] = std::move(done->reply->values);
    } else {
      response_.failed[done->index] = done->reply.take_error();
    }
    if (--outstanding_ == 0) finish_poll(self);
    return;
  }
  unexpected(self, message);
}

void ModbusSession::finish_poll(Process& self) {
  in_flight_.clear();
  const bool all_failed = std::all_of(response_.failed.begin(), response_.failed.end(),
                                      [](const auto& e) { return e.has_value(); });
  if (!all_failed) {
    consecutive_failures_ = 0;
    backoff_->reset();
    self.send(waiting_, ModbusPollResult{std::move(response_)});
    return;
  }
  Error error = *response_.failed.front();
  self.send(waiting_, ModbusPollResult{error});
  not_before_ = self.clock().now() + backoff_->next();
  if (++consecutive_failures_ >= context_.max_consecutive_failures) {
    self.exit(ExitReason::error("device " + config_->id + ": " +
                                std::to_string(consecutive_failures_) +
                                " failed polls in a row; last: " + error.describe()));
  }
}

void ModbusSession::describe(nlohmann::json& out) const {
  const auto& m = *config_->modbus;
  out["gateway"] = m.gateway();
  out["unit_id"] = m.unit_id;
  out["request_plan"] = describe_plan(plan_, m);
}

}  // namespace edgepoll::pollers
