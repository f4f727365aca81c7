// The readers serving queries beside a running writer, and the writer's
// progress reports (heartbeat, error episode) the health side reads.
#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include "edgepoll/storage/database.hpp"
#include "edgepoll/storage/reader_pool.hpp"
#include "edgepoll/storage/storage_pool.hpp"
#include "store_fixture.hpp"

namespace edgepoll::storage {
namespace {
using namespace std::chrono_literals;
using testing::await;
using testing::config_for;
using testing::TempDir;
using testing::wait_until;

struct Store {
  Store() : cfg(config_for(dir.file("edgepoll.db"))) {
    cfg.max_outbox_bytes = 0;
    cfg.max_outbox_age_s = 0;
    cfg.batch_max_delay_ms = 1;
    auto db = Database::open(cfg);
    if (!db) throw std::runtime_error(db.error().describe());
    writer = std::make_unique<BatchWriter>(std::move(*db), cfg);
  }
  std::size_t store(int n) {
    std::atomic<int> acked{0};
    for (int i = 0; i < n; ++i)
      EXPECT_TRUE(writer->submit(Reading{"dev", i, "x"}, [&](Result<Ack> r) { acked += r.ok(); }).ok());
    wait_until([&] { return acked == n; });
    return static_cast<std::size_t>(acked.load());
  }
  std::int64_t ns_now() const { return std::chrono::steady_clock::now().time_since_epoch().count(); }
  TempDir dir;
  StoreConfig cfg;
  std::unique_ptr<BatchWriter> writer;
};

TEST(ReaderPool, ReadersAnswerQueriesWhileTheWriterRuns) {
  Store s;
  ASSERT_EQ(s.store(25), 25u);
  ReaderPool pool;
  EXPECT_FALSE(pool.submit([](Reader*) { FAIL() << "ran without a reader"; }));
  auto reader = Reader::open(s.cfg);
  ASSERT_TRUE(reader.ok());
  auto thread = std::make_shared<ReaderThread>(std::move(reader.value()));
  pool.add(thread);
  EXPECT_EQ(pool.running(), 1u);
  std::promise<std::pair<std::int64_t, std::int64_t>> answer;
  ASSERT_TRUE(pool.submit([&](Reader* r) {
    ASSERT_NE(r, nullptr);
    answer.set_value({r->outbox_depth()->readings, r->dead_letter_count().value()});
  }));
  const auto [rows, dead] = answer.get_future().get();
  EXPECT_EQ(rows, 25);
  EXPECT_EQ(dead, 0);
  pool.remove(thread);
  EXPECT_EQ(pool.running(), 0u);
}

TEST(ReaderPool, AStoppingReaderRunsWhatIsLeftWithoutAConnection) {
  Store s;
  auto reader = Reader::open(s.cfg);
  ASSERT_TRUE(reader.ok());
  ReaderThread thread(std::move(reader.value()));
  std::promise<void> hold;
  auto held = hold.get_future().share();
  std::atomic<int> with = 0, without = 0;
  ASSERT_TRUE(thread.submit([held](Reader*) { held.wait(); }));  // keeps the thread busy
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(thread.submit([&](Reader* r) { ++(r ? with : without); }));
  std::thread stopper([&] { thread.stop(); });
  wait_until([&] { return !thread.submit([](Reader*) {}); });  // stop() has begun: it refuses
  hold.set_value();
  stopper.join();
  EXPECT_EQ(with + without, 3);  // every job ran once, none with a closed connection
  EXPECT_EQ(with, 0);
}

TEST(WriterProgress, TheHeartbeatMovesWhenIdleAndStopsWhileWedged) {
  Store s;
  const auto before = s.ns_now();
  ASSERT_TRUE(wait_until([&] { return s.writer->stats().heartbeat_ns.load() > before; }, 5s));
  s.writer->wedge_for_test(true);
  // Idle, the writer beats at least once a second; wedged, its last beat grows old.
  auto silent_for = [&] { return s.ns_now() - s.writer->stats().heartbeat_ns.load(); };
  EXPECT_TRUE(wait_until([&] { return silent_for() > 2'000'000'000; }, 6s));
  const auto wedged = s.ns_now();
  s.writer->wedge_for_test(false);
  EXPECT_TRUE(wait_until([&] { return s.writer->stats().heartbeat_ns.load() > wedged; }, 5s));
}

TEST(WriterProgress, AnErrorEpisodeIsStampedAndClearedOnRecovery) {
  Store s;
  ASSERT_EQ(s.store(10), 10u);
  EXPECT_EQ(s.writer->stats().unavailable_since_ns.load(), 0);
  ASSERT_TRUE(await<Status>([&](auto cb) { s.writer->set_max_db_bytes(1, cb); }).ok());
  const auto before = s.ns_now();
  for (int i = 0; i < 2000; ++i) (void)s.writer->submit(Reading{"big", i, std::string(200, 'x')}, [](Result<Ack>) {});
  ASSERT_TRUE(wait_until([&] { return !s.writer->health().ok(); }));
  EXPECT_GE(s.writer->stats().unavailable_since_ns.load(), before);
  ASSERT_TRUE(await<Status>([&](auto cb) { s.writer->set_max_db_bytes(0, cb); }).ok());
  EXPECT_TRUE(wait_until([&] { return s.writer->stats().unavailable_since_ns.load() == 0; }));
  EXPECT_TRUE(s.writer->health().ok());
}

}  // namespace
}  // namespace edgepoll::storage
