#pragma once
// The SQLite outbox (storage::Outbox) as the drainer's OutboxSource, and the
// dead_letters table as the command consumer's DeadLetterSink.
//
// storage::Outbox is synchronous and blocks on disk: these adapters must run
// where blocking is allowed (the storage writer's thread, or a thread of the
// drainer's own), never on an Asio strand of the runtime.
#include "edgepoll/kafka/command.hpp"
#include "edgepoll/kafka/outbox_source.hpp"
#include "edgepoll/storage/outbox.hpp"

namespace edgepoll::kafka {

class StorageOutboxSource final : public OutboxSource {
 public:
  explicit StorageOutboxSource(storage::Outbox& outbox) : outbox_(outbox) {}
  Result<std::vector<OutboxItem>> fetch_after(std::int64_t after_id, std::size_t limit) override;
  Status mark_in_flight(std::span<const std::int64_t> ids) override;
  Status remove(std::span<const std::int64_t> ids) override;
  Status dead_letter(const OutboxItem& item, const Error& reason) override;

 private:
  storage::Outbox& outbox_;
};

class StorageDeadLetterSink final : public DeadLetterSink {
 public:
  explicit StorageDeadLetterSink(storage::Outbox& outbox) : outbox_(outbox) {}
  Status record(const CommandDeadLetter& letter) override;

 private:
  storage::Outbox& outbox_;
};

}  // namespace edgepoll::kafka
