#pragma once
// The storage <-> Kafka adapter, the one production and the drain benchmark
// run: the SQLite outbox as the drainer's OutboxSource and the dead_letters
// table as the command consumer's DeadLetterSink, both through the current
// storage writer (storage::WriterHandle). Every call is one writer operation
// waited for (bounded, storage::call_writer) on the caller's thread, so these
// run on a Kafka loop's own thread, never on the runtime.
#include <memory>

#include "edgepoll/kafka/command.hpp"
#include "edgepoll/kafka/outbox_source.hpp"
#include "edgepoll/storage/storage_pool.hpp"

namespace edgepoll::kafka {

class WriterOutboxSource final : public OutboxSource {
 public:
  explicit WriterOutboxSource(std::shared_ptr<storage::WriterHandle> handle) : handle_(std::move(handle)) {}
  // A restarting writer has nothing to hand out yet: an empty batch, no error.
  Result<std::vector<OutboxItem>> fetch_after(std::int64_t after_id, std::size_t limit) override;
  Status remove(std::span<const std::int64_t> ids) override;
  Status dead_letter(const OutboxItem& item, const Error& reason) override;

 private:
  std::shared_ptr<storage::WriterHandle> handle_;
};

// Poison commands into the store's dead_letters table.
class WriterDeadLetters final : public DeadLetterSink {
 public:
  explicit WriterDeadLetters(std::shared_ptr<storage::WriterHandle> handle) : handle_(std::move(handle)) {}
  Status record(const CommandDeadLetter& letter) override;

 private:
  std::shared_ptr<storage::WriterHandle> handle_;
};

}  // namespace edgepoll::kafka
