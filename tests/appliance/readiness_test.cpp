// /ready's checks, each against its threshold (pure: measurements in, verdict out).
#include <gtest/gtest.h>

#include "edgepoll/appliance/readiness.hpp"
#include "edgepoll/appliance/watchdog.hpp"

namespace edgepoll::appliance {
namespace {
using namespace std::chrono_literals;

// Everything healthy: a running writer, Kafka caught up, every device polling.
ReadinessMeasurements healthy() {
  ReadinessMeasurements m;
  m.storage.writer_running = true;
  m.storage.queue_capacity = 1000;
  m.kafka.configured = true;
  m.kafka.sampled = true;
  m.kafka.outbox = 12;
  m.kafka.oldest_unacked = 2s;
  m.devices.configured = m.devices.enabled = m.devices.polling = 10;
  m.tree.restarts = {{"root", 0}, {"root/deps", 0}, {"root/edge", 0}};
  return m;
}

std::vector<std::string> failing(const ReadinessReport& r) {
  std::vector<std::string> out;
  for (const auto& [name, c] : r.body["checks"].items())
    if (!c["ok"].get<bool>()) out.push_back(name);
  return out;
}

TEST(Readiness, HealthyIsReadyAndListsEveryCheckWithItsValues) {
  const auto r = evaluate_readiness({}, healthy());
  EXPECT_TRUE(r.verdict.ready);
  EXPECT_EQ(r.verdict.reason, "");
  EXPECT_EQ(r.body["ready"], true);
  for (const char* check : {"storage", "kafka", "devices", "config", "tree"})
    EXPECT_TRUE(r.body["checks"][check]["ok"].get<bool>()) << check;
  EXPECT_EQ(r.body["checks"]["kafka"]["oldest_unacked_age_s"], 2);
  EXPECT_EQ(r.body["checks"]["kafka"]["max_s"], 60.0);
  EXPECT_EQ(r.body["checks"]["devices"]["polling"], 10);
  EXPECT_EQ(r.body["checks"]["config"]["source"], "files");
  EXPECT_EQ(r.body["registration"]["state"], "disabled");
}

TEST(Readiness, KafkaFailsOnlyPastItsThresholdAndNotWhenAbsent) {
  ReadinessThresholds t;
  t.kafka_unacked_max = 60s;
  auto m = healthy();
  m.kafka.oldest_unacked = 60s;
  EXPECT_TRUE(evaluate_readiness(t, m).verdict.ready);
  m.kafka.oldest_unacked = 61s;
  const auto r = evaluate_readiness(t, m);
  EXPECT_FALSE(r.verdict.ready);
  EXPECT_EQ(failing(r), std::vector<std::string>{"kafka"});
  EXPECT_EQ(r.body["checks"]["kafka"]["oldest_unacked_age_s"], 61);
  EXPECT_NE(r.verdict.reason.find("kafka: oldest unacknowledged reading 61 s (max 60 s)"), std::string::npos)
      << r.verdict.reason;
  m.kafka.configured = false;  // readings stay in the outbox by design
  EXPECT_TRUE(evaluate_readiness(t, m).verdict.ready);
  m = healthy();
  m.kafka.sampled = false;  // never measured: not known to deliver
  EXPECT_EQ(failing(evaluate_readiness(t, m)), std::vector<std::string>{"kafka"});
}

TEST(Readiness, StorageFailsOnALongErrorEpisodeAFullQueueOrNoWriter) {
  ReadinessThresholds t;
  t.storage_error_max = 30s;
  auto m = healthy();
  m.storage.unavailable_for = 30s;  // a blip within the threshold
  m.storage.error = "storage.disk_full: database or disk is full";
  EXPECT_TRUE(evaluate_readiness(t, m).verdict.ready);
  m.storage.unavailable_for = 31s;
  auto r = evaluate_readiness(t, m);
  EXPECT_EQ(failing(r), std::vector<std::string>{"storage"});
  EXPECT_NE(r.verdict.reason.find("disk is full"), std::string::npos) << r.verdict.reason;
  m = healthy();
  m.storage.queued = 901;  // 0.9 of 1000
  EXPECT_EQ(failing(evaluate_readiness(t, m)), std::vector<std::string>{"storage"});
  m.storage.queued = 900;
  EXPECT_TRUE(evaluate_readiness(t, m).verdict.ready);
  m.storage.writer_running = false;
  EXPECT_EQ(failing(evaluate_readiness(t, m)), std::vector<std::string>{"storage"});
}

TEST(Readiness, DevicesFailBelowTheMinimumShareOfEnabledDevices) {
  ReadinessThresholds t;
  t.devices_min_share = 0.8;
  auto m = healthy();
  m.devices.polling = 8;
  EXPECT_TRUE(evaluate_readiness(t, m).verdict.ready);
  m.devices.polling = 7;
  m.devices.quarantined = 3;
  const auto r = evaluate_readiness(t, m);
  EXPECT_EQ(failing(r), std::vector<std::string>{"devices"});
  EXPECT_EQ(r.body["checks"]["devices"]["quarantined"], 3);
  m.devices.enabled = m.devices.polling = 0;  // nothing to poll is not a failure
  EXPECT_TRUE(evaluate_readiness(t, m).verdict.ready);
}

TEST(Readiness, ConfigFromTheLastGoodCacheIsNotReady) {
  auto m = healthy();
  m.config = {ConfigSource::last_good_cache, "edgepoll.toml line 3: bad interval"};
  const auto r = evaluate_readiness({}, m);
  EXPECT_EQ(failing(r), std::vector<std::string>{"config"});
  EXPECT_EQ(r.body["checks"]["config"]["source"], "last_good_cache");
}

TEST(Readiness, TreeFailsWhenASubtreeIsDownOrRestartsPastTheRate) {
  ReadinessThresholds t;
  t.max_restarts = 3;
  auto m = healthy();
  m.tree.restarts = {{"root", 0}, {"root/deps", 3}};
  EXPECT_TRUE(evaluate_readiness(t, m).verdict.ready);
  m.tree.restarts = {{"root", 0}, {"root/deps", 4}};
  EXPECT_EQ(failing(evaluate_readiness(t, m)), std::vector<std::string>{"tree"});
  m = healthy();
  m.tree.not_running = {"root/edge"};
  const auto r = evaluate_readiness(t, m);
  EXPECT_EQ(failing(r), std::vector<std::string>{"tree"});
  EXPECT_EQ(r.body["checks"]["tree"]["not_running"][0], "root/edge");
}

TEST(Readiness, RegistrationIsShownButNeverChangesReady) {
  auto m = healthy();
  m.registration.state = "unreachable";
  m.registration.reason = "etcd: connection refused";
  auto r = evaluate_readiness({}, m);
  EXPECT_TRUE(r.verdict.ready);
  EXPECT_EQ(r.body["registration"]["state"], "unreachable");
  EXPECT_EQ(r.body["registration"]["reason"], "etcd: connection refused");
}

TEST(Watchdog, StaleThreadsAreThoseWithoutProgressWithinTheInterval) {
  const supervision::TimePoint now{100s};
  std::vector<supervision::Heartbeats::Seen> beats{{"event loop", now}, {"storage writer", now - 3s}, {"producer", now - 1s}};
  EXPECT_EQ(stale_threads(now, 2s, beats), std::vector<std::string>{"storage writer"});
  EXPECT_TRUE(stale_threads(now, 3s, beats).empty());
}

TEST(Watchdog, StatusLineSaysDevicesOutboxAndKafka) {
  auto m = healthy();
  m.devices.enabled = 190;
  m.devices.polling = 188;
  m.devices.quarantined = 2;
  m.kafka.outbox = 12034;
  m.kafka.oldest_unacked = 94s;
  EXPECT_EQ(status_line(m, evaluate_readiness({}, m)),
            "polling 188/190 devices, 2 quarantined, outbox 12,034 (oldest 94 s), kafka down, not ready (kafka)");
  m.kafka.oldest_unacked = 4s;
  EXPECT_EQ(status_line(m, evaluate_readiness({}, m)),
            "polling 188/190 devices, 2 quarantined, outbox 12,034 (oldest 4 s), kafka ok");
}

}  // namespace
}  // namespace edgepoll::appliance
