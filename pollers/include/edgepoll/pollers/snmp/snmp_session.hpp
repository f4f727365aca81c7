#pragma once
// The `connection` worker of an SNMP device's subtree (rest_for_one [fsm,
// connection], as for every protocol): the device's own net-snmp session
// (SnmpAgent) opened with its secrets when the worker starts. On each poll
// request it runs one SnmpPoll (scalars, then table walks) and hands the
// SnmpResponse to the fsm; after a failed poll it backs off (full jitter), and
// after `max_consecutive_failures` failed polls in a row it exits so that its
// supervisor counts them, like the HTTP and Modbus connections.
#include <memory>
#include <optional>

#include "edgepoll/pollers/device_config.hpp"
#include "edgepoll/pollers/poller_context.hpp"
#include "edgepoll/pollers/snmp/snmp_agent.hpp"
#include "edgepoll/pollers/snmp/snmp_poll.hpp"
#include "edgepoll/supervision/backoff.hpp"
#include "edgepoll/supervision/process.hpp"

namespace edgepoll::pollers {

struct SnmpPollResult {
  Result<SnmpResponse> response;
};

class SnmpSession final : public supervision::Behaviour {
 public:
  SnmpSession(std::shared_ptr<const DeviceConfig> config, PollerContext context);
  supervision::InitResult init(supervision::Process& self) override;
  void handle(supervision::Process& self, supervision::Message& message) override;
  void terminate(supervision::Process& self, const supervision::ExitReason& reason) override;
  void describe(nlohmann::json& out) const override;

 private:
  struct Polled {
    std::uint64_t poll = 0;
    Result<SnmpResponse> response;
  };

  std::shared_ptr<const DeviceConfig> config_;
  PollerContext context_;
  std::unique_ptr<SnmpAgent> agent_;
  std::optional<supervision::FullJitterBackoff> backoff_;
  supervision::TimePoint not_before_{};
  supervision::Pid waiting_;
  std::uint64_t poll_ = 0;
  bool in_flight_ = false;
  unsigned consecutive_failures_ = 0;
};

}  // namespace edgepoll::pollers
