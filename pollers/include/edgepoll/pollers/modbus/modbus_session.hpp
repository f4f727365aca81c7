#pragma once
// The `connection` worker of a Modbus device's subtree (rest_for_one [fsm,
// connection], as for every protocol): a session on its gateway's shared
// connection (ModbusTransport). On each poll request it sends the device's
// planned reads, gathers their answers into one ModbusResponse for the fsm, and
// backs off (full jitter) after a failed poll. Like the HTTP connection, it
// exits after `max_consecutive_failures` failed polls so that its supervisor
// counts them; the gateway connection itself lives on for the other units.
#include <memory>
#include <optional>
#include <vector>

#include "edgepoll/pollers/device_config.hpp"
#include "edgepoll/pollers/modbus/modbus_decoder.hpp"
#include "edgepoll/pollers/modbus/modbus_transport.hpp"
#include "edgepoll/pollers/poller_context.hpp"
#include "edgepoll/supervision/backoff.hpp"
#include "edgepoll/supervision/process.hpp"

namespace edgepoll::pollers {

struct ModbusPollResult {
  Result<ModbusResponse> response;
};

class ModbusSession final : public supervision::Behaviour {
 public:
  ModbusSession(std::shared_ptr<const DeviceConfig> config, PollerContext context);
  supervision::InitResult init(supervision::Process& self) override;
  void handle(supervision::Process& self, supervision::Message& message) override;
  void terminate(supervision::Process& self, const supervision::ExitReason& reason) override;
  void describe(nlohmann::json& out) const override;

 private:
  struct ReadDone {
    std::uint64_t poll = 0;
    std::size_t index = 0;
    Result<ModbusReply> reply;
  };
  void finish_poll(supervision::Process& self);

  std::shared_ptr<const DeviceConfig> config_;
  PollerContext context_;
  RequestPlan plan_;
  std::vector<ModbusRead> reads_;  // plan_ as transport requests, made once
  GatewayId gateway_ = 0;
  std::optional<supervision::FullJitterBackoff> backoff_;
  supervision::TimePoint not_before_{};
  supervision::Pid waiting_;
  std::uint64_t poll_ = 0;  // numbers polls so that a late answer of an old one is ignored
  std::vector<ModbusRequestId> in_flight_;
  std::size_t outstanding_ = 0;
  ModbusResponse response_;
  unsigned consecutive_failures_ = 0;
};

}  // namespace edgepoll::pollers
