#include "edgepoll/kafka/producer.hpp"

#include <atomic>
#include <set>

#include <gtest/gtest.h>

#include "edgepoll/kafka/mock_cluster.hpp"
#include "../support/wait_for.hpp"
#include "kafka_test_support.hpp"

namespace edgepoll::kafka {
namespace {

using namespace std::chrono_literals;
using testing::fresh_topic;

class ProducerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = MockCluster::start(3);
    ASSERT_TRUE(c) << c.error().describe();
    cluster = std::move(*c);
    topic = fresh_topic("producer");
    ASSERT_TRUE(cluster->create_topic(topic, 3));
    auto p = Producer::create(testing::test_config(cluster->bootstrap_servers()));
    ASSERT_TRUE(p) << p.error().describe();
    producer = std::move(*p);
    producer->on_delivery([this](const DeliveryReport& r) { reports.push_back(r); });
  }
  bool wait_reports(std::size_t n) {
    return testing::run_until([&] { return reports.size() >= n; },
                              [&] { producer->poll(); return 1ms; });
  }

  std::unique_ptr<MockCluster> cluster;
  std::string topic;
  std::unique_ptr<Producer> producer;
  std::vector<DeliveryReport> reports;
};

TEST_F(ProducerTest, DeliversKeyedRecordsWithTheirOpaqueId) {
  for (std::uint64_t i = 0; i < 20; ++i) {
    const std::string key = "dev-" + std::to_string(i % 4);
    const std::string payload = "reading " + std::to_string(i);
    ASSERT_TRUE(producer->produce({topic, key, payload, 0, 1000 + i, {{"reading-id", key}}}));
  }
  ASSERT_TRUE(wait_reports(20));
  std::set<std::uint64_t> ids;
  for (const auto& r : reports) {
    EXPECT_EQ(r.outcome(), DeliveryOutcome::delivered);
    ids.insert(r.opaque);
  }
  EXPECT_EQ(ids.size(), 20u);
  EXPECT_EQ(*ids.begin(), 1000u);

  auto read = testing::read_topic(cluster->bootstrap_servers(), topic, 20);
  ASSERT_EQ(read.size(), 20u);
  for (const auto& r : read) {
    // Same key, same partition: that is what keeps per-device order.
    const int device = r.key.back() - '0';
    for (const auto& other : read)
      if (other.key == r.key) {
        EXPECT_EQ(other.partition, r.partition);
      }
    EXPECT_EQ(r.headers.at("reading-id"), r.key);
    EXPECT_EQ(std::stoi(r.payload.substr(8)) % 4, device);
  }
}

TEST_F(ProducerTest, AQueuedDeliveryReportWakesTheOwnerBeforeItPolls) {
  std::atomic<int> wakes{0};
  producer->wake_on_report([&] { ++wakes; });
  ASSERT_TRUE(producer->produce({topic, "dev-0", "reading", 0, 7, {}}));
  // Nobody polls: only the report's arrival in the producer's queue can wake.
  ASSERT_TRUE(::edgepoll::testing::wait_for([&] { return wakes > 0; }));
  EXPECT_TRUE(reports.empty()) << "the report waits for poll(), which runs on the owner's thread";
  ASSERT_TRUE(wait_reports(1));
  EXPECT_EQ(reports[0].opaque, 7u);
  EXPECT_EQ(reports[0].outcome(), DeliveryOutcome::delivered);
  producer->wake_on_report({});  // off again before `wakes` goes out of scope
}

TEST_F(ProducerTest, TooLargeRecordIsRefusedPermanentlyAtProduce) {
  const std::string huge(2'000'000, 'x');  // over message.max.bytes (1 MB)
  auto s = producer->produce({topic, "dev", huge, 0, 1, {}});
  ASSERT_FALSE(s);
  EXPECT_FALSE(s.error().retryable) << s.error().describe();
}

TEST_F(ProducerTest, BrokerRefusalsAreClassified) {
  ASSERT_TRUE(cluster->push_request_errors("produce", "TOPIC_AUTHORIZATION_FAILED", 1));
  ASSERT_TRUE(producer->produce({topic, "dev", "a", 0, 1, {}}));
  ASSERT_TRUE(wait_reports(1));
  EXPECT_EQ(reports[0].outcome(), DeliveryOutcome::permanent) << reports[0].error->describe();
  EXPECT_NE(reports[0].error->message.find(topic), std::string::npos);
  // Until its next metadata refresh librdkafka may refuse that topic at
  // produce() already (whether the refresh came first is a race); such a
  // refusal is permanent too.
  auto again = producer->produce({topic, "dev", "b", 0, 2, {}});
  if (!again) {
    EXPECT_FALSE(again.error().retryable) << again.error().describe();
  }

  // A retriable refusal is retried inside librdkafka and ends delivered.
  const auto other = fresh_topic("producer");
  ASSERT_TRUE(cluster->create_topic(other, 1));
  ASSERT_TRUE(cluster->push_request_errors("produce", "NOT_ENOUGH_REPLICAS", 2));
  auto s = producer->produce({other, "dev", "c", 0, 3, {}});
  ASSERT_TRUE(s) << s.error().describe();
  auto report_of = [&](std::uint64_t opaque) -> const DeliveryReport* {
    for (const auto& r : reports)
      if (r.opaque == opaque) return &r;
    return nullptr;
  };
  ASSERT_TRUE(testing::run_until([&] { return report_of(3) != nullptr; },
                                 [&] { producer->poll(); return 1ms; }));
  EXPECT_EQ(report_of(3)->outcome(), DeliveryOutcome::delivered)
      << (report_of(3)->error ? report_of(3)->error->describe() : "");
}

TEST(ClassifyKafkaError, PermanentOnlyForRecordsTheBrokerWillNeverTake) {
  EXPECT_FALSE(classify_kafka_error(10, "x").retryable);   // MESSAGE_TOO_LARGE
  EXPECT_FALSE(classify_kafka_error(87, "x").retryable);   // INVALID_RECORD
  EXPECT_FALSE(classify_kafka_error(29, "x").retryable);   // TOPIC_AUTHORIZATION_FAILED
  EXPECT_TRUE(classify_kafka_error(6, "x").retryable);     // NOT_LEADER_FOR_PARTITION
  EXPECT_TRUE(classify_kafka_error(-192, "x").retryable);  // _MSG_TIMED_OUT
  EXPECT_TRUE(classify_kafka_error(-187, "x").retryable);  // _ALL_BROKERS_DOWN
}

}  // namespace
}  // namespace edgepoll::kafka
