#include "edgepoll/supervision/clock.hpp"
#include "edgepoll/kafka/storage_outbox.hpp"

#include <chrono>

#include <fmt/format.h>

namespace edgepoll::kafka {
Result<std::vector<OutboxItem>> StorageOutboxSource::fetch_after(std::int64_t after_id,
                                                                 std::size_t limit) {
  // The store skips rows marked in flight; the drainer marks every row it
  // fetched, so the oldest unmarked rows are exactly those after its cursor.
  auto rows = outbox_.fetch_oldest_batch(limit);
  if (!rows) return rows.take_error();
  std::vector<OutboxItem> items;
  items.reserve(rows->size());
  for (auto& r : *rows) {
    if (r.outbox_id <= after_id) continue;
    items.push_back(OutboxItem{r.outbox_id, std::move(r.id.device_id), r.id.seq, r.timestamp_ms,
                               std::move(r.payload)});
  }
  return items;
}

Status StorageOutboxSource::mark_in_flight(std::span<const std::int64_t> ids) {
  return outbox_.mark_in_flight(ids);
}

Status StorageOutboxSource::remove(std::span<const std::int64_t> ids) {
  auto n = outbox_.delete_acknowledged(ids);
  if (!n) return n.take_error();
  return ok_status();
}

Status StorageOutboxSource::dead_letter(const OutboxItem& item, const Error& reason) {
  return outbox_.move_to_dead_letters(item.outbox_id, reason.describe(), supervision::wall_clock_ms());
}

Status StorageDeadLetterSink::record(const CommandDeadLetter& l) {
  return outbox_.add_dead_letter(
      storage::DeadLetterSource::command, l.key, l.record,
      fmt::format("{} [source {}/{}/{}]", l.error.describe(), l.topic, l.partition, l.offset),
      l.time_ms);
}

}  // namespace edgepoll::kafka
