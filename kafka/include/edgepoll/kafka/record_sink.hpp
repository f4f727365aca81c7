#pragma once
// What the outbox drainer needs from a producer: queue a record, serve delivery
// reports without blocking. Producer implements it against Kafka; tests use fakes.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "edgepoll/supervision/result.hpp"

namespace edgepoll::kafka {

enum class DeliveryOutcome { delivered, retriable, permanent };

struct DeliveryReport {
  std::uint64_t opaque = 0;    // the caller's id of the record (the outbox id)
  std::optional<Error> error;  // empty when delivered; retryable=false -> permanent
  std::int32_t partition = -1;
  std::int64_t offset = -1;

  DeliveryOutcome outcome() const {
    if (!error) return DeliveryOutcome::delivered;
    return error->retryable ? DeliveryOutcome::retriable : DeliveryOutcome::permanent;
  }
};

using DeliveryHandler = std::function<void(const DeliveryReport&)>;

struct OutgoingRecord {
  std::string_view topic;
  std::string_view key;  // the device id: Kafka keeps per-key order in a partition
  std::string_view payload;
  std::int64_t timestamp_ms = 0;  // 0 = now
  std::uint64_t opaque = 0;
  std::vector<std::pair<std::string, std::string>> headers;
};

class RecordSink {
 public:
  virtual ~RecordSink() = default;
  // Queues one record. An error here means it was not queued: retryable (local
  // queue full) or permanent (too large, unknown topic name), like a report.
  virtual Status produce(const OutgoingRecord& record) = 0;
  // Serves pending delivery reports to the handler; returns at once.
  virtual int poll() = 0;
  virtual void on_delivery(DeliveryHandler handler) = 0;
};

}  // namespace edgepoll::kafka
