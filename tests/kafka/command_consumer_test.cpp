// The command consumer against the mock cluster: poison messages go to the
// dead-letter topic and sink and never block the good ones; commands for other
// nodes are skipped; retryable failures are retried on the fake clock before
// they are dead-lettered; offsets are committed once each command is applied,
// skipped or dead-lettered.
#include "edgepoll/kafka/command_consumer.hpp"

#include <librdkafka/rdkafkacpp.h>
#include <thread>
#include <gtest/gtest.h>

#include "edgepoll/kafka/mock_cluster.hpp"
#include "edgepoll/kafka/producer.hpp"
#include "edgepoll/supervision/clock.hpp"
#include "kafka_test_support.hpp"

namespace edgepoll::kafka {
namespace {

using namespace std::chrono_literals;
using testing::fresh_topic;

// How long a test waits for the consumer to have its partition. Joining the
// group takes the mock's group coordinator: 3 s idle, but on a busy machine
// one of its requests timed out after 25 s and librdkafka joined again, which
// the old 20 s deadline did not cover (the consumer had not read the poison
// message yet: nothing was dead-lettered, the sink was empty).
constexpr auto kGroupWait = 90s;

struct RecordingHandler final : CommandHandler {
  std::vector<Command> applied;
  // Device -> how many more tries fail with a retryable error first.
  std::map<std::string, int> unavailable;
  int tries = 0;
  Status apply(const Command& c) override {
    ++tries;
    if (auto it = unavailable.find(c.device); it != unavailable.end() && it->second > 0) {
      --it->second;
      return make_error("command.unavailable", "the config manager is not running", true);
    }
    if (c.device == "ghost")
      return make_error("command.unknown_device", "device \"ghost\" is not configured");
    if (c.type == CommandType::add_device && c.device_config.find("fail") != std::string::npos)
      return make_error("config.apply_failed", "the poller refused the config");
    applied.push_back(c);
    return ok_status();
  }
};

struct RecordingSink final : DeadLetterSink {
  std::vector<CommandDeadLetter> letters;
  Status record(const CommandDeadLetter& l) override {
    letters.push_back(l);
    return ok_status();
  }
};

class CommandConsumerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = MockCluster::start(1);
    ASSERT_TRUE(c) << c.error().describe();
    cluster = std::move(*c);
    config = testing::test_config(cluster->bootstrap_servers());
    config.commands_topic = fresh_topic("commands");
    config.dead_letter_topic = fresh_topic("dlq");
    config.group_id = fresh_topic("group");
    config.node_id = "site-a";
    config.command_retry_base = 1000ms;
    config.command_retry_cap = 1000ms;
    config.command_attempts = 3;
    ASSERT_TRUE(cluster->create_topic(config.commands_topic, 1));
    ASSERT_TRUE(cluster->create_topic(config.dead_letter_topic, 1));
  }
  void send(const std::vector<std::string>& messages) {
    auto p = Producer::create(config);
    ASSERT_TRUE(p) << p.error().describe();
    for (const auto& m : messages)
      ASSERT_TRUE((*p)->produce({config.commands_topic, "", m, 0, 0, {}}));
    ASSERT_TRUE((*p)->flush(10s));
  }
  std::int64_t committed_offset() {
    std::string err;
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    conf->set("bootstrap.servers", config.bootstrap_servers, err);
    conf->set("group.id", config.commands_group(), err);
    std::unique_ptr<RdKafka::KafkaConsumer> c(RdKafka::KafkaConsumer::create(conf.get(), err));
    std::vector<RdKafka::TopicPartition*> parts = {
        RdKafka::TopicPartition::create(config.commands_topic, 0)};
    // OffsetFetch goes to the group coordinator, whose requests time out on a
    // busy machine: asked again until it answers.
    const auto deadline = std::chrono::steady_clock::now() + kGroupWait;
    while (c->committed(parts, 5000) != RdKafka::ERR_NO_ERROR &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(100ms);
    const auto offset = parts[0]->offset();
    RdKafka::TopicPartition::destroy(parts);
    c->close();
    return offset;
  }

  // The end of a topic's partition 0 right now (no consumer group involved).
  std::int64_t high_watermark(const std::string& topic) {
    std::string err;
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    conf->set("bootstrap.servers", config.bootstrap_servers, err);
    conf->set("group.id", "watermark-reader", err);
    std::unique_ptr<RdKafka::KafkaConsumer> c(RdKafka::KafkaConsumer::create(conf.get(), err));
    std::int64_t low = -1, high = -1;
    c->query_watermark_offsets(topic, 0, &low, &high, 5000);
    c->close();
    return high;
  }
  // Polls until `done`, advancing the fake clock by `step` between polls.
  bool run(CommandConsumer& consumer, const std::function<bool()>& done,
           supervision::Duration step = supervision::Duration::zero()) {
    return testing::run_until(
        done,
        [&] {
          EXPECT_TRUE(consumer.poll());
          clock.advance(step);
          return 5ms;
        },
        kGroupWait);
  }

  std::unique_ptr<MockCluster> cluster;
  KafkaConfig config;
  supervision::FakeClock clock;
  RecordingHandler handler;
  RecordingSink sink;
};

TEST_F(CommandConsumerTest, PoisonBetweenTwoGoodOnesIsDeadLetteredAndTheGoodOnesApplied) {
  send({R"({"node":"site-a","id":"good-1","type":"set_poll_interval","device":"m-1","interval_ms":2000})",
        R"({"node":"site-a","id":"bad","type":"set_poll_interval","device":"m-1","interval_ms":"fast"})",
        R"({"node":"site-a","id":"good-2","type":"poll_now","device":"m-2"})"});
  auto consumer = CommandConsumer::create(config, handler, sink, clock);
  ASSERT_TRUE(consumer) << consumer.error().describe();
  ASSERT_TRUE(testing::run_until(
      [&] { return (*consumer)->stats().applied + (*consumer)->stats().dead_lettered == 3; },
      [&] {
        auto n = (*consumer)->poll();
        EXPECT_TRUE(n);
        return 5ms;
      },
      kGroupWait));
  ASSERT_EQ(handler.applied.size(), 2u);
  EXPECT_EQ(handler.applied[0].id, "good-1");
  EXPECT_EQ(handler.applied[1].id, "good-2");

  ASSERT_EQ(sink.letters.size(), 1u);
  EXPECT_EQ(sink.letters[0].key, "bad");
  EXPECT_EQ(sink.letters[0].offset, 1);
  EXPECT_EQ(sink.letters[0].topic, config.commands_topic);
  EXPECT_NE(sink.letters[0].error.message.find("interval_ms"), std::string::npos);

  auto dlq = testing::read_topic(config.bootstrap_servers, config.dead_letter_topic, 1);
  ASSERT_EQ(dlq.size(), 1u);
  EXPECT_NE(dlq[0].payload.find("\"fast\""), std::string::npos);
  EXPECT_NE(dlq[0].headers.at("error").find("interval_ms"), std::string::npos);
  EXPECT_EQ(dlq[0].headers.at("source-topic"), config.commands_topic);
  EXPECT_EQ(dlq[0].headers.at("source-partition"), "0");
  EXPECT_EQ(dlq[0].headers.at("source-offset"), "1");
  EXPECT_EQ(dlq[0].headers.at("time").size(), 20u);  // 2026-11-23T09:00:00Z

  (*consumer)->close();
  EXPECT_EQ(committed_offset(), 3);  // all three, the poison one included
}

TEST_F(CommandConsumerTest, UnknownDeviceAndApplyFailureArePoisonToo) {
  send({R"({"node":"*","type":"poll_now","device":"ghost"})",
        R"({"node":"*","type":"add_device","device":"m-9","config":{"mode":"fail"}})",
        "not json at all",
        R"({"node":"*","type":"enable_device","device":"m-3"})"});
  auto consumer = CommandConsumer::create(config, handler, sink, clock);
  ASSERT_TRUE(consumer) << consumer.error().describe();
  ASSERT_TRUE(testing::run_until([&] { return handler.applied.size() == 1; },
                                 [&] {
                                   EXPECT_TRUE((*consumer)->poll());
                                   return 5ms;
                                 },
                                 kGroupWait));
  ASSERT_EQ(sink.letters.size(), 3u);
  EXPECT_EQ(sink.letters[0].error.code, "command.unknown_device");
  EXPECT_EQ(sink.letters[1].error.code, "config.apply_failed");
  EXPECT_EQ(sink.letters[2].error.code, "command.unparsable");
  // Without an id, a command is named by where it came from.
  EXPECT_EQ(sink.letters[2].key, config.commands_topic + "/0/2");
  (*consumer)->close();
  EXPECT_EQ(committed_offset(), 4);
}

TEST_F(CommandConsumerTest, CommandsForOtherNodesAreSkippedCountedAndCommitted) {
  send({R"({"node":"site-b","id":"for-b","type":"poll_now","device":"m-1"})",
        R"({"node":"site-a","id":"for-a","type":"poll_now","device":"m-2"})",
        R"({"node":"*","id":"for-all","type":"poll_now","device":"m-3"})",
        R"({"id":"for-nobody","type":"poll_now","device":"m-4"})"});
  auto consumer = CommandConsumer::create(config, handler, sink, clock);
  ASSERT_TRUE(consumer) << consumer.error().describe();
  const auto& stats = (*consumer)->stats();
  ASSERT_TRUE(run(**consumer, [&] { return stats.applied + stats.ignored_other_node + stats.dead_lettered == 4; }));
  ASSERT_EQ(handler.applied.size(), 2u);
  EXPECT_EQ(handler.applied[0].id, "for-a");
  EXPECT_EQ(handler.applied[1].id, "for-all");
  EXPECT_EQ(stats.ignored_other_node, 1u);
  // Another node's command is not a poison message; a command without a node is.
  ASSERT_EQ(sink.letters.size(), 1u);
  EXPECT_EQ(sink.letters[0].key, "for-nobody");
  EXPECT_EQ(sink.letters[0].error.code, "command.invalid");
  EXPECT_NE(sink.letters[0].error.message.find("\"node\""), std::string::npos);
  (*consumer)->close();
  EXPECT_EQ(committed_offset(), 4);
}

TEST_F(CommandConsumerTest, ARetryableFailureIsRetriedAfterBackoffThenApplied) {
  handler.unavailable["m-1"] = 2;  // the config manager is back at the third try
  send({R"({"node":"site-a","id":"slow","type":"poll_now","device":"m-1"})",
        R"({"node":"site-a","id":"next","type":"poll_now","device":"m-2"})"});
  auto consumer = CommandConsumer::create(config, handler, sink, clock);
  ASSERT_TRUE(consumer) << consumer.error().describe();
  ASSERT_TRUE(run(**consumer, [&] { return handler.tries == 1; }));
  // Waiting for its retry: the fake clock has not moved, so nothing more is
  // tried, and the command behind it waits (order is kept).
  ASSERT_TRUE((*consumer)->retry_due().has_value());
  for (int i = 0; i < 20; ++i) ASSERT_TRUE((*consumer)->poll());
  EXPECT_EQ(handler.tries, 1);
  EXPECT_TRUE(handler.applied.empty());
  // Time passes (backoff base = cap = 1 s): tried again, and applied the third time.
  ASSERT_TRUE(run(**consumer, [&] { return handler.applied.size() == 2; }, 1s));
  EXPECT_EQ(handler.tries, 4);
  EXPECT_EQ(handler.applied[0].id, "slow");
  EXPECT_EQ(handler.applied[1].id, "next");
  EXPECT_EQ((*consumer)->stats().retries, 2u);
  EXPECT_TRUE(sink.letters.empty());
  (*consumer)->close();
  EXPECT_EQ(committed_offset(), 2);
}

TEST_F(CommandConsumerTest, RetriesRunOutAndTheDeadLetterCarriesEveryAttemptsError) {
  handler.unavailable["m-1"] = 100;
  send({R"({"node":"*","id":"never","type":"poll_now","device":"m-1"})"});
  auto consumer = CommandConsumer::create(config, handler, sink, clock);
  ASSERT_TRUE(consumer) << consumer.error().describe();
  ASSERT_TRUE(run(**consumer, [&] { return (*consumer)->stats().dead_lettered == 1; }, 1s));
  EXPECT_EQ(handler.tries, 3);  // command_attempts
  ASSERT_EQ(sink.letters.size(), 1u);
  const auto& error = sink.letters[0].error;
  EXPECT_EQ(error.code, "command.unavailable");
  for (const char* attempt : {"attempt 1:", "attempt 2:", "attempt 3:"})
    EXPECT_NE(error.message.find(attempt), std::string::npos) << error.message;
  auto dlq = testing::read_topic(config.bootstrap_servers, config.dead_letter_topic, 1);
  ASSERT_EQ(dlq.size(), 1u);
  EXPECT_EQ(dlq[0].headers.at("attempts"), "3");
  EXPECT_NE(dlq[0].headers.at("error").find("attempt 3:"), std::string::npos);
  (*consumer)->close();
  EXPECT_EQ(committed_offset(), 1);
}

// The cause of the flaky PoisonBetweenTwoGoodOnes check: a dead letter was
// counted (and its offset committed) while its copy still sat in librdkafka's
// queue. Now the copy is on the topic first, even when its produce is retried.
TEST_F(CommandConsumerTest, ADeadLetterIsOnItsTopicBeforeItIsCountedAndCommitted) {
  send({"poison"});
  auto consumer = CommandConsumer::create(config, handler, sink, clock, testing::fast_reconnect());
  ASSERT_TRUE(consumer) << consumer.error().describe();
  ASSERT_TRUE(cluster->push_request_errors("produce", "NOT_LEADER_FOR_PARTITION", 5));
  ASSERT_TRUE(run(**consumer, [&] { return (*consumer)->stats().dead_lettered == 1; }))
      << "letters in the sink: " << sink.letters.size();
  EXPECT_EQ(high_watermark(config.dead_letter_topic), 1);
  (*consumer)->close();
}

}  // namespace
}  // namespace edgepoll::kafka
