#pragma once
// A RecordSink in front of the producer that makes the broker fail records
// while the FaultSwitch says so (seam "kafka"): the record is taken, never
// sent, and its delivery report comes back at the next poll() with the
// retriable error, as a broker that answers every produce with an error
// (NOT_ENOUGH_REPLICAS, a leader change that outlasts message.timeout.ms)
// does. The drainer then backs off and sends it again, its own error path.
// Only the daemon with [chaos] enabled puts it in front of the producer.
#include <chrono>
#include <memory>
#include <vector>

#include "edgepoll/kafka/record_sink.hpp"
#include "edgepoll/supervision/fault_switch.hpp"

namespace edgepoll::kafka {

class FaultInjectingSink final : public RecordSink {
 public:
  FaultInjectingSink(RecordSink& inner, std::shared_ptr<const supervision::FaultSwitch> faults)
      : inner_(inner), faults_(std::move(faults)) {}

  Status produce(const OutgoingRecord& record) override {
    auto fault = faults_->active("kafka", "", std::chrono::steady_clock::now());
    if (!fault) return inner_.produce(record);
    failed_.push_back({record.opaque, std::move(*fault)});
    return ok_status();
  }
  int poll() override {
    int served = inner_.poll();
    auto failed = std::move(failed_);
    failed_.clear();
    for (auto& report : failed) {
      if (handler_) handler_(report);
      ++served;
    }
    return served;
  }
  void on_delivery(DeliveryHandler handler) override {
    handler_ = handler;
    inner_.on_delivery(std::move(handler));
  }

 private:
  RecordSink& inner_;
  std::shared_ptr<const supervision::FaultSwitch> faults_;
  DeliveryHandler handler_;
  std::vector<DeliveryReport> failed_;  // the drain thread's only: produce and poll run there
};

}  // namespace edgepoll::kafka
