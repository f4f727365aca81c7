// The subsystems' counters on /metrics: bumped at their sources (a real storage
// writer on a temporary SQLite file), read back from the text exposition.
#include "edgepoll/appliance/subsystem_metrics.hpp"
#include "support/wait_for.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <sstream>
#include <thread>

namespace edgepoll::appliance {
namespace {
using namespace std::chrono_literals;
namespace fs = std::filesystem;

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/edgepoll-metrics-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
  fs::path path;
};

// The value of one series ("name" or "name{labels}") in a render; -1 when absent.
double value(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

bool eventually(const std::function<bool()>& done) { return testing::wait_for(done, 10s, 5ms); }

pollers::DeviceReadings poll_of(const std::string& device) {
  return {device, std::chrono::system_clock::now(), {pollers::Reading{"temp", 21.5, "degC"}}};
}

struct Node {
  Node() { register_subsystem_metrics(*metrics, {counters, pipeline, writer, kafka, modbus, commands, quarantine_log}); }
  // A writer on its own database file (a restarted writer opens the same file).
  std::shared_ptr<storage::BatchWriter> start_writer() {
    storage::StoreConfig config;
    config.path = (dir.path / "edgepoll.db").string();
    config.max_outbox_bytes = 0;  // no retention here
    config.max_outbox_age_s = 0;
    auto db = storage::Database::open(config);
    if (!db.ok()) throw std::runtime_error(db.error().describe());
    auto w = std::make_shared<storage::BatchWriter>(std::move(db.value()), config);
    writer->set(w);
    return w;
  }

  TempDir dir;
  std::shared_ptr<Metrics> metrics = std::make_shared<Metrics>();
  std::shared_ptr<pollers::PollerCounters> counters = std::make_shared<pollers::PollerCounters>();
  std::shared_ptr<storage::WriterHandle> writer = std::make_shared<storage::WriterHandle>();
  std::shared_ptr<ReadingPipeline> pipeline = std::make_shared<ReadingPipeline>(writer, 2);
  std::shared_ptr<kafka::ProducerCounters> kafka = std::make_shared<kafka::ProducerCounters>();
  std::shared_ptr<pollers::ModbusTransportStats> modbus = std::make_shared<pollers::ModbusTransportStats>();
  std::shared_ptr<kafka::CommandCounters> commands = std::make_shared<kafka::CommandCounters>();
  std::shared_ptr<StoreQuarantineLog> quarantine_log = std::make_shared<StoreQuarantineLog>(writer);
};

TEST(SubsystemMetrics, EverySubsystemsCountersAppearAsFamiliesWithTheirValues) {
  Node node;
  node.counters->polls = 5;
  node.counters->poll_failures = 2;
  node.counters->decode_failures = 1;
  node.counters->readings = 12;
  node.counters->skipped_open = 3;
  node.counters->shed_late = 4;
  node.counters->quarantines = 1;
  // No writer yet: two polls wait in the pipeline's buffer, the third is dropped.
  for (int i = 0; i < 3; ++i) node.pipeline->submit(poll_of("d1"));
  node.kafka->delivered = 7;
  node.kafka->dead_lettered = 1;
  node.kafka->in_flight = 4;

  auto text = node.metrics->render();
  EXPECT_NE(text.find("# HELP edgepoll_polls_total "), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE edgepoll_polls_total counter"), std::string::npos);
  EXPECT_NE(text.find("# TYPE edgepoll_pipeline_buffered gauge"), std::string::npos);
  EXPECT_NE(text.find("# TYPE edgepoll_store_queued gauge"), std::string::npos);
  EXPECT_EQ(value(text, "edgepoll_polls_total"), 5);
  EXPECT_EQ(value(text, "edgepoll_poll_failures_total"), 2);
  EXPECT_EQ(value(text, "edgepoll_decode_failures_total"), 1);
  EXPECT_EQ(value(text, "edgepoll_readings_total"), 12);
  EXPECT_EQ(value(text, R"(edgepoll_poll_ticks_skipped_total{kind="breaker_open"})"), 3);
  EXPECT_EQ(value(text, R"(edgepoll_poll_ticks_skipped_total{kind="busy"})"), 0);
  EXPECT_EQ(value(text, R"(edgepoll_poll_ticks_skipped_total{kind="late"})"), 4);
  EXPECT_EQ(value(text, "edgepoll_device_quarantines_total"), 1);
  EXPECT_EQ(value(text, "edgepoll_pipeline_submitted_total"), 3);
  EXPECT_EQ(value(text, "edgepoll_pipeline_buffered"), 2);
  EXPECT_EQ(value(text, "edgepoll_pipeline_dropped_total"), 1);
  EXPECT_EQ(value(text, "edgepoll_store_committed_total"), 0);
  EXPECT_EQ(value(text, R"(edgepoll_store_errors_total{kind="disk_full"})"), 0);
  EXPECT_EQ(value(text, "edgepoll_store_queued"), 0);
  EXPECT_EQ(value(text, "edgepoll_kafka_delivered_total"), 7);
  EXPECT_EQ(value(text, "edgepoll_kafka_dead_lettered_total"), 1);
  EXPECT_EQ(value(text, "edgepoll_kafka_in_flight"), 4);
  EXPECT_EQ(text.find("d1"), std::string::npos) << "no device ids as labels";

  // The writer comes up: the buffered two go first, then the new one.
  auto w = node.start_writer();
  node.pipeline->submit(poll_of("d1"));
  ASSERT_TRUE(eventually([&] { return node.pipeline->stats().stored == 3; }));
  node.counters->polls += 3;
  node.kafka->in_flight = 0;

  // Rendered twice: counters add only what grew since the previous render.
  (void)node.metrics->render();
  text = node.metrics->render();
  EXPECT_EQ(value(text, "edgepoll_polls_total"), 8);
  EXPECT_EQ(value(text, "edgepoll_store_committed_total"), 3);
  EXPECT_EQ(value(text, "edgepoll_store_batches_total"), w->stats().batches.load());
  EXPECT_EQ(value(text, "edgepoll_pipeline_stored_total"), 3);
  EXPECT_EQ(value(text, "edgepoll_pipeline_buffered"), 0);
  EXPECT_EQ(value(text, "edgepoll_kafka_delivered_total"), 7);
  EXPECT_EQ(value(text, "edgepoll_kafka_in_flight"), 0);
}

TEST(SubsystemMetrics, ARestartedWriterCountsOnFromTheTotalsOfTheOldOne) {
  Node node;
  auto first = node.start_writer();
  for (int i = 0; i < 3; ++i) node.pipeline->submit(poll_of("d" + std::to_string(i)));
  ASSERT_TRUE(eventually([&] { return first->stats().committed == 3; }));
  EXPECT_EQ(value(node.metrics->render(), "edgepoll_store_committed_total"), 3);

  // Storage restarting: no writer, the totals stay.
  node.writer->set(nullptr);
  first->stop();
  first.reset();
  EXPECT_EQ(value(node.metrics->render(), "edgepoll_store_committed_total"), 3);

  // A new writer starts counting from zero; the family goes on from 3.
  auto second = node.start_writer();
  node.pipeline->submit(poll_of("d9"));
  ASSERT_TRUE(eventually([&] { return second->stats().committed == 1; }));
  EXPECT_EQ(value(node.metrics->render(), "edgepoll_store_committed_total"), 4);
}

TEST(SubsystemMetrics, ModbusGatewayCountersAppearWithTheirGrowth) {
  Node node;
  node.modbus->connects = 3;
  node.modbus->timeouts = 7;
  auto text = node.metrics->render();
  EXPECT_EQ(value(text, "edgepoll_modbus_connects_total"), 3);
  EXPECT_EQ(value(text, "edgepoll_modbus_timeouts_total"), 7);
  EXPECT_EQ(value(text, "edgepoll_modbus_stray_answers_total"), 0);
  node.modbus->timeouts = 9;
  EXPECT_EQ(value(node.metrics->render(), "edgepoll_modbus_timeouts_total"), 9);
}

TEST(SubsystemMetrics, TheCommandConsumersOutcomesAreCountedByOutcome) {
  Node node;
  node.commands->applied = 3;
  node.commands->ignored_other_node = 5;
  node.commands->dead_lettered = 1;
  node.commands->retries = 2;
  const auto text = node.metrics->render();
  EXPECT_EQ(value(text, "edgepoll_kafka_commands_total{outcome=\"applied\"}"), 3);
  EXPECT_EQ(value(text, "edgepoll_kafka_commands_total{outcome=\"ignored_other_node\"}"), 5);
  EXPECT_EQ(value(text, "edgepoll_kafka_commands_total{outcome=\"dead_lettered\"}"), 1);
  EXPECT_EQ(value(text, "edgepoll_kafka_command_retries_total"), 2);
}

TEST(SubsystemMetrics, AQuarantineThatDidNotReachTheStoreIsCounted) {
  Node node;  // no writer running
  EXPECT_EQ(value(node.metrics->render(), "edgepoll_quarantine_log_write_failures_total"), 0);
  node.quarantine_log->quarantined({"bad", 1, std::chrono::system_clock::now(), "crash"});
  EXPECT_EQ(value(node.metrics->render(), "edgepoll_quarantine_log_write_failures_total"), 1);
}

TEST(SubsystemMetrics, NoKafkaSectionNoKafkaFamilies) {
  auto metrics = std::make_shared<Metrics>();
  register_subsystem_metrics(
      *metrics, {std::make_shared<pollers::PollerCounters>(), nullptr, nullptr, nullptr, nullptr, nullptr, nullptr});
  const auto text = metrics->render();
  EXPECT_EQ(value(text, "edgepoll_polls_total"), 0);
  EXPECT_EQ(text.find("edgepoll_kafka_"), std::string::npos) << text;
}

}  // namespace
}  // namespace edgepoll::appliance
