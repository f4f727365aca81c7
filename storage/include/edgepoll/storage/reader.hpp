#pragma once
// A read-only connection for queries (operators listing dead letters, device
// state, outbox depth for /metrics and /ready). WAL lets it read while the
// writer commits. Its calls block on disk I/O like any SQLite call: the storage
// pool runs each Reader on a thread of its own, never on the Asio runtime.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "edgepoll/storage/reading.hpp"
#include "edgepoll/storage/store_config.hpp"
#include "edgepoll/supervision/result.hpp"

namespace edgepoll::storage {

class Connection;

struct OutboxDepth {
  std::int64_t readings = 0;
  std::optional<std::int64_t> oldest_timestamp_ms;
  std::int64_t database_bytes = 0;  // pages in use, excluding the free list
};

class Reader {
 public:
  // The store must exist (the writer creates and migrates it).
  static Result<Reader> open(const StoreConfig& config);
  Reader(Reader&&) noexcept;
  Reader& operator=(Reader&&) noexcept;
  ~Reader();

  Result<std::vector<DeadLetter>> dead_letters(std::size_t limit, std::int64_t after_id = 0);
  // By id or record key (see BatchWriter::find_dead_letter); nullopt when absent.
  Result<std::optional<DeadLetter>> dead_letter(const std::string& key);
  Result<std::optional<DeviceState>> device_state(const std::string& device_id);
  Result<std::vector<DeviceState>> device_states();
  // Counts the outbox (a full scan of its rows: for /metrics every few seconds,
  // not per request).
  Result<OutboxDepth> outbox_depth();
  // Rows of the dead_letters table (readings and commands).
  Result<std::int64_t> dead_letter_count();

 private:
  explicit Reader(std::unique_ptr<Connection> c);
  std::unique_ptr<Connection> conn_;
};

}  // namespace edgepoll::storage
