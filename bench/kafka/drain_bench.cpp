// kafka-drain-bench: the outbox drainer end to end against a Kafka cluster
// (kafka-sandbox), through the path production runs: readings submitted to the
// storage writer (BatchWriter) into a real SQLite outbox -> WriterOutboxSource
// -> idempotent producer (acks=all, lz4) -> delivery report -> DELETE.
//   --mode drain:   a backlog of N readings, timed until the outbox is empty;
//                   writes the same records to --kcat-file for the reference.
//   --mode latency: readings arrive at --rate/s; poll-to-ack latency (submit
//                   to the writer -> deleted after Kafka's ack), p50/p99.
#include <algorithm>
#include <atomic>
#include <functional>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <fmt/format.h>
#include <librdkafka/rdkafkacpp.h>

#include "edgepoll/kafka/outbox_drainer.hpp"
#include "edgepoll/kafka/producer.hpp"
#include "edgepoll/kafka/writer_outbox.hpp"
#include "edgepoll/storage/batch_writer.hpp"
#include "edgepoll/storage/storage_pool.hpp"

using namespace edgepoll;
using Clock = std::chrono::steady_clock;

namespace {

// Times each reading from its submit to its delete after the ack.
class TimedOutbox final : public kafka::OutboxSource {
 public:
  explicit TimedOutbox(kafka::OutboxSource& inner) : inner_(inner) {}
  // From the writer's thread (its acks).
  void appended_at(std::int64_t outbox_id, Clock::time_point t) {
    std::lock_guard lock(mutex_);
    appended[outbox_id] = t;
  }
  std::vector<double> latencies_ms;
  Result<std::vector<kafka::OutboxItem>> fetch_after(std::int64_t a, std::size_t n) override {
    return inner_.fetch_after(a, n);
  }
  Status remove(std::span<const std::int64_t> ids) override {
    auto s = inner_.remove(ids);
    const auto now = Clock::now();
    std::lock_guard lock(mutex_);
    for (auto id : ids)
      if (auto it = appended.find(id); it != appended.end()) {
        latencies_ms.push_back(std::chrono::duration<double, std::milli>(now - it->second).count());
        appended.erase(it);
      }
    return s;
  }
  Status dead_letter(const kafka::OutboxItem& item, const Error& reason) override {
    return inner_.dead_letter(item, reason);
  }

 private:
  kafka::OutboxSource& inner_;
  std::mutex mutex_;
  std::unordered_map<std::int64_t, Clock::time_point> appended;
};

std::string payload_for(std::int64_t i, std::size_t bytes) {
  std::string p = fmt::format(R"({{"v":{},"u":"kWh","q":"good","pad":")", i);
  p.resize(std::max(p.size(), bytes - 2), 'x');
  return p + "\"}";
}

// Submits readings [from, from + n) to the writer as the reading pipeline does;
// `on_ack` runs on the writer's thread after COMMIT.
void submit(storage::BatchWriter& writer, std::int64_t from, std::int64_t n, int devices, std::size_t bytes,
            const std::function<void(const storage::Ack&)>& on_ack) {
  for (std::int64_t i = from; i < from + n; ++i) {
    auto accepted = writer.submit({fmt::format("dev-{:04}", i % devices), 1700000000000 + i, payload_for(i, bytes)},
                                  [on_ack](Result<storage::Ack> a) {
                                    if (!a) throw std::runtime_error(a.error().describe());
                                    on_ack(*a);
                                  });
    if (!accepted) throw std::runtime_error(accepted.error().describe());
  }
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kafka-drain-bench: outbox -> Kafka drain throughput and poll-to-ack latency"};
  std::string bootstrap, topic = "bench.readings", mode = "drain", db_path, kcat_file;
  std::int64_t readings = 200000;
  int devices = 1000;
  std::size_t bytes = 100;
  double rate = 10000, seconds = 10;
  std::size_t max_in_flight = 20000;
  app.add_option("--bootstrap", bootstrap, "bootstrap servers")->required();
  app.add_option("--topic", topic, "topic to produce to");
  app.add_option("--mode", mode, "drain | latency")->check(CLI::IsMember({"drain", "latency"}));
  app.add_option("--readings", readings, "drain: backlog size");
  app.add_option("--devices", devices, "distinct device ids (keys)");
  app.add_option("--payload-bytes", bytes, "bytes per reading");
  app.add_option("--rate", rate, "latency: readings/s arriving");
  app.add_option("--seconds", seconds, "latency: duration");
  app.add_option("--max-in-flight", max_in_flight, "drainer bound");
  app.add_option("--db", db_path, "SQLite outbox file (default: a temp file)");
  app.add_option("--kcat-file", kcat_file, "drain: write the records as key<TAB>payload lines");
  CLI11_PARSE(app, argc, argv);

  if (db_path.empty())
    db_path = (std::filesystem::temp_directory_path() / fmt::format("kbench-{}.db", getpid())).string();
  std::filesystem::remove(db_path);
  storage::StoreConfig store;
  store.path = db_path;
  auto db = storage::Database::open(store);
  if (!db) { fmt::print(stderr, "{}\n", db.error().describe()); return 1; }
  auto writer = std::make_shared<storage::BatchWriter>(std::move(*db), store);
  auto handle = std::make_shared<storage::WriterHandle>();
  handle->set(writer);
  kafka::WriterOutboxSource source(handle);
  TimedOutbox timed(source);

  kafka::KafkaConfig config;
  config.bootstrap_servers = bootstrap;
  config.default_topic = topic;
  config.max_in_flight = max_in_flight;
  config.fetch_batch = 2000;
  config.drain_rate = 0;  // the benchmark measures the ceiling
  config.properties = {{"linger.ms", "5"}, {"batch.num.messages", "10000"}};
  auto producer = kafka::Producer::create(config);
  if (!producer) { fmt::print(stderr, "{}\n", producer.error().describe()); return 1; }
  boost::asio::io_context io;
  supervision::SteadyClock clock(io);
  kafka::OutboxDrainer drainer(timed, **producer, clock, kafka::DrainerOptions::from(config), 1);
  auto step = [&] {
    auto d = drainer.pump();
    if (!d) throw std::runtime_error(d.error().describe());
    std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(*d, std::chrono::microseconds(200)));
  };

  if (mode == "drain") {
    std::atomic<std::int64_t> stored{0};
    for (std::int64_t i = 0; i < readings; i += 10000) {
      submit(*writer, i, std::min<std::int64_t>(10000, readings - i), devices, bytes, [&](const storage::Ack&) { ++stored; });
      while (stored < i) std::this_thread::sleep_for(std::chrono::milliseconds(1));  // within the writer's queue
    }
    while (stored < readings) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (!kcat_file.empty()) {
      std::ofstream f(kcat_file);
      for (std::int64_t i = 0; i < readings; ++i)
        f << fmt::format("dev-{:04}", i % devices) << '\t' << payload_for(i, bytes) << '\n';
    }
    const auto t0 = Clock::now();
    while (drainer.stats().delivered + drainer.stats().dead_lettered <
           static_cast<std::uint64_t>(readings))
      step();
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    fmt::print("ours_drain_readings={} seconds={:.3f} readings_per_s={:.0f} dead_letters={}\n",
               readings, s, static_cast<double>(readings) / s, drainer.stats().dead_lettered);
  } else {
    const auto t0 = Clock::now();
    std::int64_t sent = 0;
    const auto total = static_cast<std::int64_t>(rate * seconds);
    while (sent < total || drainer.stats().delivered < static_cast<std::uint64_t>(total)) {
      const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
      const auto due = std::min(total, static_cast<std::int64_t>(elapsed * rate));
      if (due > sent) {
        const auto now = Clock::now();
        submit(*writer, sent, due - sent, devices, bytes, [&timed, now](const storage::Ack& a) { timed.appended_at(a.outbox_id, now); });
        sent = due;
      }
      step();
    }
    fmt::print("ours_latency_rate={:.0f} readings={} p50_ms={:.2f} p99_ms={:.2f} max_ms={:.2f}\n",
               rate, total, percentile(timed.latencies_ms, 0.50),
               percentile(timed.latencies_ms, 0.99), percentile(timed.latencies_ms, 1.0));
  }
  (void)(*producer)->flush(std::chrono::seconds(5));
  writer->stop();
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db_path + suffix);
  return 0;
}
