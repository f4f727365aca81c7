#pragma once
// Building librdkafka configurations from KafkaConfig: shared by the producer and
// the command consumer. Errors name the property but never its value (it may be
// a secret).
#include <map>
#include <memory>
#include <string>

#include <librdkafka/rdkafkacpp.h>

#include "edgepoll/kafka/kafka_config.hpp"

namespace edgepoll::kafka::detail {

// Global conf with config.client_properties(), then `defaults` (only where the
// user did not set the property), then `overrides` (always).
Result<std::unique_ptr<RdKafka::Conf>> make_conf(
    const KafkaConfig& config, const std::map<std::string, std::string>& defaults,
    const std::map<std::string, std::string>& overrides);

Status set_callback(RdKafka::Conf& conf, const char* name, RdKafka::DeliveryReportCb* cb);
Status set_callback(RdKafka::Conf& conf, const char* name, RdKafka::EventCb* cb);

// Logs librdkafka's errors and log lines through spdlog (never the config), and
// remembers a fatal error of the idempotent producer.
class EventLogger final : public RdKafka::EventCb {
 public:
  explicit EventLogger(std::string client) : client_(std::move(client)) {}
  void event_cb(RdKafka::Event& event) override;
  bool fatal() const { return fatal_; }
  std::string fatal_reason() const { return fatal_reason_; }

 private:
  std::string client_;
  bool fatal_ = false;
  std::string fatal_reason_;
  RdKafka::ErrorCode last_error_ = RdKafka::ERR_NO_ERROR;
};

}  // namespace edgepoll::kafka::detail
