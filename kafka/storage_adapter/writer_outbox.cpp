#include "edgepoll/kafka/writer_outbox.hpp"

#include "edgepoll/storage/batch_writer.hpp"
#include "edgepoll/storage/writer_call.hpp"

namespace edgepoll::kafka {

namespace {

Result<std::shared_ptr<storage::BatchWriter>> writer_of(const storage::WriterHandle& handle) {
  if (auto w = handle.get()) return w;
  return make_error("storage.unavailable", "the storage writer is not running", true);
}

}  // namespace

Result<std::vector<OutboxItem>> WriterOutboxSource::fetch_after(std::int64_t after_id, std::size_t limit) {
  auto w = handle_->get();
  if (!w) return std::vector<OutboxItem>{};
  auto rows = storage::call_writer<std::vector<storage::OutboxRecord>>(
      [&](auto done) { w->fetch_after(after_id, limit, std::move(done)); });
  if (!rows.ok()) return rows.take_error();
  std::vector<OutboxItem> items;
  items.reserve(rows->size());
  for (auto& r : rows.value())
    items.push_back({r.outbox_id, std::move(r.id.device_id), r.id.seq, r.timestamp_ms, std::move(r.payload)});
  return items;
}

Status WriterOutboxSource::remove(std::span<const std::int64_t> ids) {
  auto w = writer_of(*handle_);
  if (!w.ok()) return w.take_error();
  auto n = storage::call_writer<std::size_t>(
      [&](auto done) { w.value()->delete_acknowledged({ids.begin(), ids.end()}, std::move(done)); });
  if (!n.ok()) return n.take_error();
  return ok_status();
}

Status WriterOutboxSource::dead_letter(const OutboxItem& item, const Error& reason) {
  auto w = writer_of(*handle_);
  if (!w.ok()) return w.take_error();
  return storage::call_writer<Ok>(
      [&](auto done) { w.value()->move_to_dead_letters(item.outbox_id, reason.describe(), std::move(done)); });
}

Status WriterDeadLetters::record(const CommandDeadLetter& l) {
  auto w = writer_of(*handle_);
  if (!w.ok()) return w.take_error();
  return storage::call_writer<Ok>([&](auto done) {
    w.value()->add_dead_letter(storage::DeadLetterSource::command, l.key, l.record, l.error.describe(),
                               std::move(done));
  });
}

}  // namespace edgepoll::kafka
