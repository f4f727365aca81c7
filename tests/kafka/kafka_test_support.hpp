#pragma once
// Helpers for Kafka tests: a fresh topic name per test (the mock keeps little
// per partition), a consumer that reads a topic back, an in-memory outbox, and a
// deadline loop instead of sleep-and-hope.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "edgepoll/kafka/kafka_config.hpp"
#include "edgepoll/kafka/outbox_source.hpp"

namespace edgepoll::kafka::testing {

std::string fresh_topic(const std::string& prefix);

// A config for a test client: fast reconnects so that broker up/down drills
// finish quickly.
KafkaConfig test_config(const std::string& bootstrap);
std::map<std::string, std::string> fast_reconnect();

struct ConsumedRecord {
  std::string key;
  std::string payload;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  std::map<std::string, std::string> headers;
};

// Reads `topic` from the beginning until `count` records arrived or `timeout`.
std::vector<ConsumedRecord> read_topic(const std::string& bootstrap, const std::string& topic,
                                       std::size_t count,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(20));

// Calls `step` (which returns how long to wait before the next call) until
// `done` or the deadline; true when done.
bool run_until(const std::function<bool()>& done,
               const std::function<std::chrono::nanoseconds()>& step,
               std::chrono::milliseconds timeout = std::chrono::seconds(20));

// The outbox in memory, with the SQLite outbox's contract.
class FakeOutbox final : public OutboxSource {
 public:
  // Payload of an appended reading when append() is given none.
  using PayloadOf = std::function<std::string(const OutboxItem&)>;
  explicit FakeOutbox(PayloadOf payload_of = {}) : payload_of_(std::move(payload_of)) {}
  std::int64_t append(const std::string& device, std::string payload);
  std::size_t size() const;
  std::vector<std::pair<OutboxItem, Error>> dead_letters() const;
  std::size_t times_fetched(std::int64_t id) const;

  Result<std::vector<OutboxItem>> fetch_after(std::int64_t after_id, std::size_t limit) override;
  Status remove(std::span<const std::int64_t> ids) override;
  Status dead_letter(const OutboxItem& item, const Error& reason) override;

 private:
  PayloadOf payload_of_;
  mutable std::mutex mutex_;
  std::int64_t next_id_ = 1;
  std::map<std::string, std::int64_t> seq_;
  std::map<std::int64_t, OutboxItem> rows_;
  std::map<std::int64_t, std::size_t> fetched_;
  std::vector<std::pair<OutboxItem, Error>> dead_;
};

}  // namespace edgepoll::kafka::testing
