// The drainer with the real Producer against librdkafka's mock cluster (real
// Kafka protocol on loopback TCP): what arrives in the topic is what the
// outbox held, once, keyed and in per-device order, through outages and
// injected broker errors.
#include "edgepoll/kafka/outbox_drainer.hpp"

#include <map>
#include <set>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "edgepoll/kafka/mock_cluster.hpp"
#include "edgepoll/kafka/producer.hpp"
#include "kafka_test_support.hpp"

namespace edgepoll::kafka {
namespace {

using namespace std::chrono_literals;
using testing::FakeOutbox;
using testing::fresh_topic;
using testing::run_until;

class DrainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = MockCluster::start(3);
    ASSERT_TRUE(c) << c.error().describe();
    cluster = std::move(*c);
    topic = fresh_topic("drain");
    ASSERT_TRUE(cluster->create_topic(topic, 4));
    config = testing::test_config(cluster->bootstrap_servers());
    config.default_topic = topic;
    config.max_in_flight = 200;
    config.drain_rate = 0;
    config.retry_base = 20ms;
    config.retry_cap = 200ms;
    config.message_timeout = 1500ms;  // brokers down longer than this -> retriable reports
  }
  void start() {
    auto p = Producer::create(config);
    ASSERT_TRUE(p) << p.error().describe();
    producer = std::move(*p);
    drainer = std::make_unique<OutboxDrainer>(outbox, *producer, clock,
                                              DrainerOptions::from(config), 1);
  }
  std::chrono::nanoseconds pump() {
    auto d = drainer->pump();
    EXPECT_TRUE(d) << d.error().describe();
    return d ? *d : 1ms;
  }
  bool drain(std::chrono::milliseconds timeout = 20s) {
    return run_until([&] { return outbox.size() == 0 && drainer->in_flight() == 0; },
                     [&] { return pump(); }, timeout);
  }
  // Every reading exactly once, keyed by its device, in per-device order.
  void expect_exactly_once_in_order(std::size_t expected) {
    auto read = testing::read_topic(cluster->bootstrap_servers(), topic, expected);
    ASSERT_EQ(read.size(), expected);
    std::map<std::string, std::int64_t> last_seq;
    std::set<std::string> ids;
    for (const auto& r : read) {
      const auto& id = r.headers.at("reading-id");
      EXPECT_TRUE(ids.insert(id).second) << "duplicate " << id;
      const auto colon = id.rfind(':');
      EXPECT_EQ(id.substr(0, colon), r.key);
      const auto seq = std::stoll(id.substr(colon + 1));
      EXPECT_GT(seq, last_seq[r.key]) << "out of order for " << r.key;
      last_seq[r.key] = seq;
      EXPECT_EQ(r.payload, "payload of " + id);
    }
  }
  void fill(int n, int devices) {
    for (int i = 0; i < n; ++i) {
      const std::string dev = "dev-" + std::to_string(i % devices);
      const auto id = outbox.append(dev, "");
      (void)id;
    }
  }

  boost::asio::io_context io;
  supervision::SteadyClock clock{io};
  std::unique_ptr<MockCluster> cluster;
  std::string topic;
  KafkaConfig config;
  FakeOutbox outbox{[](const OutboxItem& item) {
    return "payload of " + item.device_id + ":" + std::to_string(item.seq);
  }};
  std::unique_ptr<Producer> producer;
  std::unique_ptr<OutboxDrainer> drainer;
};

TEST_F(DrainerTest, EveryReadingArrivesOnceWithItsKeyInPerDeviceOrder) {
  fill(2000, 17);
  start();
  ASSERT_TRUE(drain());
  EXPECT_EQ(drainer->stats().delivered, 2000u);
  EXPECT_TRUE(outbox.dead_letters().empty());
  expect_exactly_once_in_order(2000);
}

TEST_F(DrainerTest, AllBrokersDownThenUpLosesNothing) {
  fill(300, 5);
  start();
  ASSERT_TRUE(drain());
  ASSERT_TRUE(cluster->set_broker_down(0));
  // Readings keep arriving during the outage: the outbox grows, and after each
  // arrival the drainer takes what its bound allows (it holds them in memory,
  // in flight or waiting for a retry)...
  for (int round = 0; round < 10; ++round) {
    fill(100, 5);
    ASSERT_TRUE(run_until(
        [&] {
          return drainer->in_flight() + drainer->waiting_retry() >= std::min(config.max_in_flight, outbox.size());
        },
        [&] { return pump(); }));
  }
  EXPECT_GE(outbox.size(), 1000u);
  // ...until librdkafka gives up on what was in flight (message.timeout.ms) and
  // the drainer backs off instead of losing or dead-lettering it.
  ASSERT_TRUE(run_until([&] { return drainer->stats().retried > 0; }, [&] { return pump(); }));
  EXPECT_GT(drainer->stats().backoffs, 0u);
  ASSERT_TRUE(cluster->set_broker_up(0));
  ASSERT_TRUE(drain(30s));
  EXPECT_TRUE(outbox.dead_letters().empty());
  expect_exactly_once_in_order(1300);
}

TEST_F(DrainerTest, PermanentBrokerErrorDeadLettersWithoutBlockingTheRest) {
  start();
  fill(10, 2);
  ASSERT_TRUE(drain());
  // The broker refuses the next produce request as too large: the records in
  // that request are dead-lettered, the ones after it are delivered.
  ASSERT_TRUE(cluster->push_request_errors("produce", "MSG_SIZE_TOO_LARGE", 1));
  fill(1, 1);
  ASSERT_TRUE(drain());
  fill(10, 2);
  ASSERT_TRUE(drain());
  auto dead = outbox.dead_letters();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].first.outbox_id, 11);
  EXPECT_FALSE(dead[0].second.retryable);
  EXPECT_NE(dead[0].second.message.find("too large"), std::string::npos)
      << dead[0].second.message;
  EXPECT_EQ(drainer->stats().delivered, 20u);
}

TEST_F(DrainerTest, RetriableBrokerErrorsEndDelivered) {
  start();
  ASSERT_TRUE(cluster->push_request_errors("produce", "NOT_LEADER_FOR_PARTITION", 3));
  ASSERT_TRUE(cluster->push_request_errors("produce", "REQUEST_TIMED_OUT", 2));
  fill(500, 7);
  ASSERT_TRUE(drain());
  EXPECT_TRUE(outbox.dead_letters().empty());
  expect_exactly_once_in_order(500);
}

}  // namespace
}  // namespace edgepoll::kafka
