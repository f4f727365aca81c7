// The command consumer against the mock cluster: poison messages go to the
// dead-letter topic and sink and never block the good ones; offsets are
// committed once each command is applied or dead-lettered.
#include "edgepoll/kafka/command_consumer.hpp"

#include <librdkafka/rdkafkacpp.h>
#include <gtest/gtest.h>

#include "edgepoll/kafka/mock_cluster.hpp"
#include "edgepoll/kafka/producer.hpp"
#include "kafka_test_support.hpp"

namespace edgepoll::kafka {
namespace {

using namespace std::chrono_literals;
using testing::fresh_topic;

struct RecordingHandler final : CommandHandler {
  std::vector<Command> applied;
  Status apply(const Command& c) override {
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
    conf->set("group.id", config.group_id, err);
    std::unique_ptr<RdKafka::KafkaConsumer> c(RdKafka::KafkaConsumer::create(conf.get(), err));
    std::vector<RdKafka::TopicPartition*> parts = {
        RdKafka::TopicPartition::create(config.commands_topic, 0)};
    c->committed(parts, 5000);
    const auto offset = parts[0]->offset();
    RdKafka::TopicPartition::destroy(parts);
    c->close();
    return offset;
  }

  std::unique_ptr<MockCluster> cluster;
  KafkaConfig config;
  RecordingHandler handler;
  RecordingSink sink;
};

TEST_F(CommandConsumerTest, PoisonBetweenTwoGoodOnesIsDeadLetteredAndTheGoodOnesApplied) {
  send({R"({"id":"good-1","type":"set_poll_interval","device":"m-1","interval_ms":2000})",
        R"({"id":"bad","type":"set_poll_interval","device":"m-1","interval_ms":"fast"})",
        R"({"id":"good-2","type":"poll_now","device":"m-2"})"});
  auto consumer = CommandConsumer::create(config, handler, sink);
  ASSERT_TRUE(consumer) << consumer.error().describe();
  ASSERT_TRUE(testing::run_until(
      [&] { return (*consumer)->stats().applied + (*consumer)->stats().dead_lettered == 3; },
      [&] {
        auto n = (*consumer)->poll();
        EXPECT_TRUE(n);
        return 5ms;
      }));
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
  send({R"({"type":"poll_now","device":"ghost"})",
        R"({"type":"add_device","device":"m-9","config":{"mode":"fail"}})",
        "not json at all",
        R"({"type":"enable_device","device":"m-3"})"});
  auto consumer = CommandConsumer::create(config, handler, sink);
  ASSERT_TRUE(consumer) << consumer.error().describe();
  ASSERT_TRUE(testing::run_until([&] { return handler.applied.size() == 1; },
                                 [&] {
                                   EXPECT_TRUE((*consumer)->poll());
                                   return 5ms;
                                 }));
  ASSERT_EQ(sink.letters.size(), 3u);
  EXPECT_EQ(sink.letters[0].error.code, "command.unknown_device");
  EXPECT_EQ(sink.letters[1].error.code, "config.apply_failed");
  EXPECT_EQ(sink.letters[2].error.code, "command.unparsable");
  // Without an id, a command is named by where it came from.
  EXPECT_EQ(sink.letters[2].key, config.commands_topic + "/0/2");
  (*consumer)->close();
  EXPECT_EQ(committed_offset(), 4);
}

}  // namespace
}  // namespace edgepoll::kafka
