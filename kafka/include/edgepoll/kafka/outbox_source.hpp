#pragma once
// The outbox as the drainer sees it: read oldest first past a cursor, delete
// what Kafka acknowledged, move what it can never accept to dead letters. The
// drainer keeps what it fetched in memory until then (the store marks nothing:
// a restarted drainer starts from cursor 0 and re-sends what is still there).
// The SQLite outbox implements it through WriterOutboxSource (the storage
// writer's operations); tests use a fake.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "edgepoll/supervision/result.hpp"

namespace edgepoll::kafka {

struct OutboxItem {
  std::int64_t outbox_id = 0;  // increasing in insertion order, never reused
  std::string device_id;
  std::int64_t seq = 0;  // per-device sequence: with device_id the reading's stable id
  std::int64_t timestamp_ms = 0;
  std::string payload;
};

class OutboxSource {
 public:
  virtual ~OutboxSource() = default;
  // Up to `limit` rows with outbox_id > after_id, oldest first.
  virtual Result<std::vector<OutboxItem>> fetch_after(std::int64_t after_id,
                                                      std::size_t limit) = 0;
  // Kafka acknowledged these rows: they leave the disk.
  virtual Status remove(std::span<const std::int64_t> ids) = 0;
  // Kafka refused this row for good: out of the outbox, into dead_letters.
  virtual Status dead_letter(const OutboxItem& item, const Error& reason) = 0;
};

}  // namespace edgepoll::kafka
