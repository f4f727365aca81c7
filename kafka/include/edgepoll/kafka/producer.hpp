#pragma once
// The plain Kafka producer: idempotent, acks=all, compression from config, records
// keyed by device id. It owns no thread: poll() serves delivery reports with a
// zero timeout, so the owner calls it from a timer on its own strand and an Asio
// handler never blocks (librdkafka's own threads do the network I/O). A dedicated
// poll thread was rejected because delivery reports would then have to be
// marshalled back to the strand anyway.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "edgepoll/kafka/kafka_config.hpp"
#include "edgepoll/kafka/record_sink.hpp"

namespace edgepoll::kafka {

// Kafka error -> Error with the retryable flag set by the delivery policy:
// message too large, invalid record, record list too large, invalid topic and
// topic authorization failure are permanent; everything else is retriable.
Error classify_kafka_error(int code, std::string_view context);

class Producer final : public RecordSink {
 public:
  // `overrides` are librdkafka properties applied last (tests, benchmarks).
  static Result<std::unique_ptr<Producer>> create(
      const KafkaConfig& config, const std::map<std::string, std::string>& overrides = {});
  ~Producer() override;

  Status produce(const OutgoingRecord& record) override;
  int poll() override;
  void on_delivery(DeliveryHandler handler) override;

  // `wake` (empty: none) is called from a librdkafka thread when a delivery
  // report (or another event) is queued for poll() and none was waiting: the
  // owner's loop then polls at once instead of every so often. It must not
  // block or call into this producer.
  void wake_on_report(std::function<void()> wake);

  // Blocks up to `timeout` until everything queued is delivered or failed (for
  // shutdown and tools, never from a handler).
  Status flush(std::chrono::milliseconds timeout);
  // Records queued in librdkafka, not yet reported.
  std::size_t queued() const;
  // Set once the idempotent producer hit a fatal error: it can no longer
  // guarantee order without duplicates, so its owner must recreate it.
  std::optional<Error> fatal_error() const;

 private:
  struct Impl;
  explicit Producer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgepoll::kafka
