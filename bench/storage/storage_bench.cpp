// storage-bench <dir> [readings]: the store's throughput through the real
// BatchWriter, printed as key=value lines for bench/storage/run.sh.
//   ingest: submit N readings (100-byte payloads, 100 devices) from one thread,
//           time until the last acknowledgement (after COMMIT);
//   bytes on disk per stored reading after a clean close;
//   drain: fetch_after(cursor, 1000) + delete_acknowledged in a loop until the
//          outbox is empty, as the Kafka producer does.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "edgepoll/storage/batch_writer.hpp"

using namespace edgepoll::storage;
using Clock = std::chrono::steady_clock;

namespace {

template <class T, class Start>
T await(Start start) {
  std::promise<T> p;
  auto f = p.get_future();
  start([&p](T r) { p.set_value(std::move(r)); });
  return f.get();
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

StoreConfig bench_config(const std::string& path, Synchronous sync) {
  StoreConfig cfg;
  cfg.path = path;
  cfg.synchronous = sync;
  cfg.batch_max_rows = 1000;
  cfg.batch_max_delay_ms = 5;
  cfg.queue_capacity = 100000;
  cfg.max_outbox_bytes = 0;
  cfg.max_outbox_age_s = 0;
  return cfg;
}

double ingest(const StoreConfig& cfg, std::size_t n) {
  auto db = Database::open(cfg);
  if (!db) throw std::runtime_error(db.error().describe());
  BatchWriter writer(std::move(*db), cfg);
  std::atomic<std::size_t> acked{0};
  const std::string payload(100, 'p');
  const auto t0 = Clock::now();
  for (std::size_t i = 0; i < n; ++i) {
    Reading r{fmt::format("device-{:03}", i % 100), static_cast<std::int64_t>(i), payload};
    // A full queue is back-pressure: retry, as a poller would after its next poll.
    while (!writer.submit(r, [&acked](edgepoll::Result<Ack> a) {
             if (a.ok()) acked.fetch_add(1, std::memory_order_relaxed);
           }).ok())
      std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  while (acked.load() < n) std::this_thread::sleep_for(std::chrono::microseconds(200));
  const double s = seconds_since(t0);
  if (writer.stats().committed != n) throw std::runtime_error("not every reading committed");
  return n / s;
}

double drain(const StoreConfig& cfg, std::size_t n) {
  auto db = Database::open(cfg);
  if (!db) throw std::runtime_error(db.error().describe());
  BatchWriter writer(std::move(*db), cfg);
  std::size_t drained = 0;
  std::int64_t cursor = 0;
  const auto t0 = Clock::now();
  for (;;) {
    auto batch = await<edgepoll::Result<std::vector<OutboxRecord>>>(
        [&](auto cb) { writer.fetch_after(cursor, 1000, cb); });
    if (!batch) throw std::runtime_error(batch.error().describe());
    if (batch->empty()) break;
    std::vector<std::int64_t> ids;
    ids.reserve(batch->size());
    for (const auto& r : *batch) ids.push_back(r.outbox_id);
    cursor = ids.back();
    auto deleted = await<edgepoll::Result<std::size_t>>(
        [&](auto cb) { writer.delete_acknowledged(ids, cb); });
    if (!deleted) throw std::runtime_error(deleted.error().describe());
    drained += *deleted;
  }
  const double s = seconds_since(t0);
  if (drained != n) throw std::runtime_error(fmt::format("drained {} of {}", drained, n));
  return n / s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: storage-bench <dir> [readings]\n");
    return 2;
  }
  spdlog::set_level(spdlog::level::warn);
  const std::string dir = argv[1];
  const std::size_t n = argc > 2 ? std::stoul(argv[2]) : 1'000'000;

  // An empty store of exactly our schema, for the sqlite3 shell reference to copy.
  if (auto t = Database::open(bench_config(dir + "/template.db", Synchronous::normal)); !t) {
    std::fprintf(stderr, "%s\n", t.error().describe().c_str());
    return 1;
  }
  const auto normal = bench_config(dir + "/bench-normal.db", Synchronous::normal);
  const double ingest_rate = ingest(normal, n);
  const auto file_bytes = std::filesystem::file_size(normal.path);  // closed: WAL checkpointed
  const double drain_rate = drain(normal, n);

  const auto full = bench_config(dir + "/bench-full.db", Synchronous::full);
  const double ingest_full_rate = ingest(full, n);

  std::printf("edgepoll_readings=%zu\n", n);
  std::printf("edgepoll_ingest_per_s=%.0f\n", ingest_rate);
  std::printf("edgepoll_ingest_full_per_s=%.0f\n", ingest_full_rate);
  std::printf("edgepoll_bytes_per_reading=%.1f\n", static_cast<double>(file_bytes) / n);
  std::printf("edgepoll_drain_per_s=%.0f\n", drain_rate);
  return 0;
}
