#pragma once
// The outbox and its neighbours as synchronous operations on the writer's
// connection. BatchWriter runs them on its thread; tests call them directly.
//
// A reading's sequence is assigned inside the transaction that inserts it (from
// device_state.last_seq), so a sequence becomes visible only once committed and
// a crash before COMMIT cannot leak one that a later run would hand out again.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "edgepoll/storage/database.hpp"
#include "edgepoll/storage/reading.hpp"
#include "edgepoll/supervision/result.hpp"

namespace edgepoll::storage {

// Readings of one device lost to retention: operators see exactly what and why.
struct DroppedRange {
  std::string device_id;
  std::int64_t first_seq = 0;
  std::int64_t last_seq = 0;
  std::int64_t count = 0;
};

struct RetentionReport {
  std::size_t dropped = 0;
  std::size_t batches = 0;
  std::string reason;  // "max_outbox_bytes" / "max_outbox_age_s"
  std::vector<DroppedRange> devices;
};

struct RetentionLimits {
  std::uint64_t max_bytes = 0;  // 0 = none
  std::uint64_t max_age_s = 0;  // 0 = none
  std::size_t batch_rows = 1000;
  std::size_t max_batches = 1000;  // bounds one call's work
};

class Outbox {
 public:
  explicit Outbox(Database& db);
  ~Outbox();
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // Stores `batch` in one transaction; acks in input order, or an Error and
  // nothing stored.
  Result<std::vector<Ack>> append(std::span<const Reading> batch);

  // The producer's read: at most n rows with outbox_id > after_id, oldest
  // first. The producer keeps what it fetched in memory (in flight, or waiting
  // for a retry) until Kafka acknowledges it, so the store keeps no mark per
  // row: only the watermark, the highest id handed out, below which retention
  // drops nothing. A fetch from below the watermark (a restarted producer,
  // whose cursor starts at 0) lowers it: whatever was never acknowledged is
  // handed out again, with the same outbox id and reading id.
  Result<std::vector<OutboxRecord>> fetch_after(std::int64_t after_id, std::size_t n);
  // The oldest n rows, for readers and tests; leaves the watermark alone.
  Result<std::vector<OutboxRecord>> fetch_oldest_batch(std::size_t n);
  // Kafka acknowledged them: they leave the disk, one DELETE per run of
  // consecutive ids. Returns rows deleted.
  Result<std::size_t> delete_acknowledged(std::span<const std::int64_t> ids);
  // A permanent delivery error: out of the outbox into dead_letters, atomically.
  Status move_to_dead_letters(std::int64_t id, std::string_view reason, std::int64_t now_ms);
  // A command (or anything else) that can never be applied.
  Status add_dead_letter(DeadLetterSource source, std::string_view key, std::string_view record,
                         std::string_view reason, std::int64_t now_ms);

  // Poll bookkeeping of a device (the sequence is the store's own business).
  Status update_device_health(std::string_view device_id, std::optional<std::int64_t> last_good_ms,
                              std::int64_t consecutive_failures,
                              std::optional<std::int64_t> quarantine_until_ms);

  // A device was quarantined (attempt, until, reason) or released from its
  // quarantine (until and reason cleared, attempt kept for the record).
  Status record_quarantine(const Quarantine& q);
  Status clear_quarantine(std::string_view device_id);
  // Every device quarantined right now (quarantine_until_ms set), by id.
  Result<std::vector<Quarantine>> quarantines();

  // Drops the oldest readings in whole batches while a limit is exceeded.
  Result<RetentionReport> enforce_retention(const RetentionLimits& limits, std::int64_t now_ms);

  // The highest outbox id handed to the producer (0: none since it started).
  std::int64_t handed_out() const { return handed_out_; }

 private:
  struct Statements;
  Status prepared();  // prepares the statements on first use
  Result<std::int64_t> last_seq(const std::string& device_id);
  Result<std::vector<OutboxRecord>> read_after(std::int64_t after_id, std::size_t n);
  Status drop_oldest(std::size_t n, std::int64_t older_than_ms, RetentionReport& report);

  Database& db_;
  std::unique_ptr<Statements> st_;
  std::unordered_map<std::string, std::int64_t> committed_seq_;  // cache of device_state
  std::int64_t handed_out_ = 0;
};

}  // namespace edgepoll::storage
