#include "edgepoll/storage/batch_writer.hpp"

#include <atomic>
#include <mutex>
#include <set>

#include <gtest/gtest.h>

#include "edgepoll/storage/reader.hpp"
#include "store_fixture.hpp"

namespace edgepoll::storage {
namespace {

using testing::await;
using testing::config_for;
using testing::TempDir;
using testing::wait_until;
using namespace std::chrono_literals;

class BatchWriterTest : public ::testing::Test {
 protected:
  BatchWriterTest() {
    cfg.max_outbox_bytes = 0;  // retention is tested on its own
    cfg.max_outbox_age_s = 0;
  }
  std::unique_ptr<BatchWriter> start() {
    auto db = Database::open(cfg);
    if (!db) throw std::runtime_error(db.error().describe());
    return std::make_unique<BatchWriter>(std::move(*db), cfg);
  }
  // Submits n readings of `device`, counting their acknowledgements.
  void submit(BatchWriter& w, int n, const std::string& device = "dev") {
    for (int i = 0; i < n; ++i) {
      auto s = w.submit(Reading{device, i, std::string(100, 'r')}, [this](Result<Ack> r) {
        std::lock_guard lock(mutex);
        if (r.ok()) acks.push_back(r.value());
        else errors.push_back(r.error());
      });
      ASSERT_TRUE(s.ok()) << s.error().describe();
    }
  }
  std::size_t acked() {
    std::lock_guard lock(mutex);
    return acks.size();
  }
  std::int64_t rows_on_disk() {
    auto reader = Reader::open(cfg);
    return reader->outbox_depth()->readings;
  }

  TempDir dir;
  StoreConfig cfg = config_for(dir.file("edgepoll.db"));
  std::mutex mutex;
  std::vector<Ack> acks;
  std::vector<Error> errors;
};

TEST_F(BatchWriterTest, AFullBatchCommitsWithoutWaitingForTheTimer) {
  cfg.batch_max_rows = 10;
  cfg.batch_max_delay_ms = 3'600'000;  // an hour: only the count can flush
  auto w = start();
  submit(*w, 10);
  ASSERT_TRUE(wait_until([&] { return acked() == 10; }));
  EXPECT_EQ(w->stats().batches, 1u);
  EXPECT_EQ(w->stats().committed, 10u);
  for (std::size_t i = 0; i < 10; ++i) EXPECT_EQ(acks[i].id.seq, static_cast<std::int64_t>(i + 1));
}

TEST_F(BatchWriterTest, APartialBatchCommitsAfterTheDelay) {
  cfg.batch_max_rows = 1000;
  cfg.batch_max_delay_ms = 2;
  auto w = start();
  submit(*w, 3);
  ASSERT_TRUE(wait_until([&] { return acked() == 3; }));
  EXPECT_EQ(w->stats().batches, 1u);
}

TEST_F(BatchWriterTest, TheAcknowledgementComesOnlyAfterCommit) {
  cfg.batch_max_rows = 5;
  auto w = start();
  std::atomic<std::int64_t> visible{-1};
  ASSERT_TRUE(w->submit(Reading{"d", 1, "x"}, [&](Result<Ack>) {
                 // Another connection already sees the row: it is committed.
                 visible = rows_on_disk();
               }).ok());
  ASSERT_TRUE(wait_until([&] { return visible >= 0; }));
  EXPECT_EQ(visible, 1);
}

TEST_F(BatchWriterTest, EachCommittedBatchIsAnnouncedAfterItsAcknowledgements) {
  cfg.batch_max_rows = 5;
  cfg.batch_max_delay_ms = 3'600'000;  // only full batches commit
  std::mutex seen_mutex;
  std::vector<std::pair<std::size_t, std::int64_t>> seen;  // (acked, rows on disk) at each announcement
  auto db = Database::open(cfg);
  ASSERT_TRUE(db.ok());
  auto w = std::make_unique<BatchWriter>(std::move(*db), cfg, nullptr, [&] {
    std::lock_guard lock(seen_mutex);
    seen.emplace_back(acked(), rows_on_disk());
  });
  submit(*w, 10);
  ASSERT_TRUE(wait_until([&] {
    std::lock_guard lock(seen_mutex);
    return seen.size() == 2;
  }));
  std::lock_guard lock(seen_mutex);
  EXPECT_EQ(seen[0], (std::pair<std::size_t, std::int64_t>{5, 5}));
  EXPECT_EQ(seen[1], (std::pair<std::size_t, std::int64_t>{10, 10}));
}

TEST_F(BatchWriterTest, StopFlushesWhatIsQueuedAndThenRefuses) {
  cfg.batch_max_rows = 1000;
  cfg.batch_max_delay_ms = 3'600'000;
  auto w = start();
  submit(*w, 7);
  w->stop();
  EXPECT_EQ(acked(), 7u);
  auto late = w->submit(Reading{"d", 1, "x"}, [](Result<Ack>) {});
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, "storage.stopped");
  auto op = await<Result<std::vector<OutboxRecord>>>([&](auto cb) { w->fetch_oldest_batch(1, cb); });
  EXPECT_EQ(op.error().code, "storage.stopped");
}

TEST_F(BatchWriterTest, DiskFullKeepsCommittedRowsAndResumesWhenSpaceReturns) {
  cfg.batch_max_rows = 200;
  cfg.batch_max_delay_ms = 1;
  auto w = start();
  submit(*w, 100);
  ASSERT_TRUE(wait_until([&] { return acked() == 100; }));
  // Pin the file at its current size: the next page it needs is "disk full".
  ASSERT_TRUE(await<Status>([&](auto cb) { w->set_max_db_bytes(1, cb); }).ok());
  submit(*w, 3000, "dev-2");
  ASSERT_TRUE(wait_until([&] { return w->health().ok() == false; }));
  EXPECT_EQ(w->health().error().code, "storage.disk_full");
  EXPECT_TRUE(w->health().error().retryable);
  EXPECT_GT(w->stats().errors_disk_full, 0u);
  EXPECT_EQ(rows_on_disk(), 100) << "committed rows are kept, no half batch";
  EXPECT_LT(acked(), 3100u);
  // Space returns: the writer resumes by itself and stores everything waiting.
  ASSERT_TRUE(await<Status>([&](auto cb) { w->set_max_db_bytes(0, cb); }).ok());
  ASSERT_TRUE(wait_until([&] { return acked() == 3100; }));
  EXPECT_TRUE(w->health().ok());
  EXPECT_EQ(rows_on_disk(), 3100);
  EXPECT_TRUE(errors.empty());
  std::set<std::int64_t> seqs;
  for (const auto& a : acks)
    if (a.id.device_id == "dev-2") seqs.insert(a.id.seq);
  EXPECT_EQ(seqs.size(), 3000u);
  EXPECT_EQ(*seqs.rbegin(), 3000) << "a failed batch must not burn sequence numbers";
}

TEST_F(BatchWriterTest, ABusyStoreHoldsReadingsInBoundedMemoryAndRefusesTheRest) {
  cfg.batch_max_rows = 10;
  cfg.batch_max_delay_ms = 1;
  cfg.queue_capacity = 20;
  cfg.busy_timeout_ms = 20;
  auto w = start();
  testing::LockingShell shell(cfg.path);
  submit(*w, 10, "early");
  ASSERT_TRUE(wait_until([&] { return !w->health().ok(); }));
  EXPECT_EQ(w->health().error().code, "storage.busy");
  EXPECT_GT(w->stats().errors_busy, 0u);
  std::size_t accepted = 10, refused = 0;
  for (int i = 0; i < 100; ++i) {
    auto s = w->submit(Reading{"late-" + std::to_string(i % 2), i, "x"}, [this](Result<Ack> r) {
      std::lock_guard lock(mutex);
      if (r.ok()) acks.push_back(r.value());
    });
    if (s.ok()) {
      ++accepted;
      continue;
    }
    EXPECT_EQ(s.error().code, "storage.queue_full");
    EXPECT_TRUE(s.error().retryable);
    ++refused;
  }
  EXPECT_LE(accepted, 30u) << "memory is bounded by queue_capacity (+ one batch being retried)";
  EXPECT_EQ(w->stats().dropped, refused);
  EXPECT_EQ(acked(), 0u);
  shell.release();  // the lock goes away: the writer resumes by itself
  ASSERT_TRUE(wait_until([&] { return acked() == accepted; }));
  EXPECT_TRUE(w->health().ok());
  EXPECT_EQ(rows_on_disk(), static_cast<std::int64_t>(accepted));
}

TEST_F(BatchWriterTest, TheProducerDrainsThroughTheWriter) {
  cfg.batch_max_rows = 50;
  cfg.batch_max_delay_ms = 1;
  auto w = start();
  submit(*w, 120);
  ASSERT_TRUE(wait_until([&] { return acked() == 120; }));
  auto batch = await<Result<std::vector<OutboxRecord>>>([&](auto cb) { w->fetch_after(0, 100, cb); });
  ASSERT_TRUE(batch.ok());
  ASSERT_EQ(batch->size(), 100u);
  std::vector<std::int64_t> ids;
  for (const auto& r : *batch) ids.push_back(r.outbox_id);
  auto next = await<Result<std::vector<OutboxRecord>>>([&](auto cb) { w->fetch_after(ids.back(), 100, cb); });
  ASSERT_EQ(next->size(), 20u);
  ASSERT_TRUE(await<Status>([&](auto cb) { w->move_to_dead_letters(next->front().outbox_id, "too large", cb); }).ok());
  auto deleted = await<Result<std::size_t>>([&](auto cb) { w->delete_acknowledged(ids, cb); });
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 100u);
  EXPECT_EQ(rows_on_disk(), 19);
  auto reader = Reader::open(cfg);
  EXPECT_EQ(reader->dead_letters(10)->size(), 1u);
  EXPECT_TRUE(await<Status>([&](auto cb) { w->quick_check(cb); }).ok());
}

TEST_F(BatchWriterTest, ACallbackThatThrowsDoesNotStopTheWriter) {
  cfg.batch_max_delay_ms = 1;
  auto w = start();
  ASSERT_TRUE(w->submit(Reading{"d", 1, "x"}, [](Result<Ack>) { throw std::runtime_error("bug"); }).ok());
  submit(*w, 5);
  ASSERT_TRUE(wait_until([&] { return acked() == 5; }));
}

TEST_F(BatchWriterTest, QuarantinesGoThroughTheWriterThread) {
  auto w = start();
  submit(*w, 3, "meter");
  ASSERT_TRUE(await<Result<Ok>>([&](auto done) { w->record_quarantine({"meter", 4, 123'000, "crashed"}, done); }).ok());
  auto listed = await<Result<std::vector<Quarantine>>>([&](auto done) { w->quarantines(done); });
  ASSERT_TRUE(listed.ok()) << listed.error().describe();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].attempt, 4);
  EXPECT_EQ((*listed)[0].reason, "crashed");
  ASSERT_TRUE(await<Result<Ok>>([&](auto done) { w->clear_quarantine("meter", done); }).ok());
  listed = await<Result<std::vector<Quarantine>>>([&](auto done) { w->quarantines(done); });
  EXPECT_TRUE(listed->empty());
  w->stop();
  // A stopped writer answers, with an error, instead of leaving the caller waiting.
  auto late = await<Result<std::vector<Quarantine>>>([&](auto done) { w->quarantines(done); });
  EXPECT_FALSE(late.ok());
}

}  // namespace
}  // namespace edgepoll::storage
