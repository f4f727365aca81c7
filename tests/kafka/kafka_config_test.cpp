#include "edgepoll/kafka/kafka_config.hpp"

#include <cstdio>
#include <fstream>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

namespace edgepoll::kafka {
namespace {

Result<KafkaConfig> parse(std::string_view text) { return KafkaConfig::parse(toml::parse(text)); }

TEST(KafkaConfig, DefaultsAreIdempotentFriendly) {
  auto c = parse("");
  ASSERT_TRUE(c) << c.error().describe();
  EXPECT_EQ(c->compression, "lz4");
  EXPECT_EQ(c->topic_for_group("anything"), c->default_topic);
}

TEST(KafkaConfig, EachNodeHasItsOwnCommandsGroupAndRetryPolicy) {
  auto c = parse("group_id = \"plant\"\ncommand_attempts = 7\ncommand_retry_base_ms = 20\ncommand_retry_cap_ms = 400\n");
  ASSERT_TRUE(c) << c.error().describe();
  EXPECT_EQ(c->commands_group(), "plant");  // no node id set (yet)
  c->node_id = "site-4";                    // the daemon sets it from [node] id
  EXPECT_EQ(c->commands_group(), "plant.site-4");
  EXPECT_EQ(c->command_attempts, 7u);
  EXPECT_EQ(c->command_retry_base, std::chrono::milliseconds(20));
  EXPECT_EQ(c->command_retry_cap, std::chrono::milliseconds(400));
  EXPECT_NE(c->describe().find("commands_group=plant.site-4"), std::string::npos) << c->describe();
  auto d = parse("");
  d->node_id = "a";
  EXPECT_EQ(d->commands_group(), "edgepoll.a");
}

TEST(KafkaConfig, ParsesEverySection) {
  auto c = parse(R"(
    bootstrap_servers = "10.0.0.1:9092,10.0.0.2:9092"
    default_topic = "readings"
    compression = "zstd"
    max_in_flight = 500
    drain_rate = 2500
    retry_base_ms = 50
    retry_cap_ms = 5000
    [topics]
    meters = "readings.meters"
    [security]
    "security.protocol" = "SASL_SSL"
    "sasl.mechanism" = "PLAIN"
    [properties]
    "linger.ms" = "20"
  )");
  ASSERT_TRUE(c) << c.error().describe();
  EXPECT_EQ(c->compression, "zstd");
  EXPECT_EQ(c->max_in_flight, 500u);
  EXPECT_DOUBLE_EQ(c->drain_rate, 2500);
  EXPECT_EQ(c->retry_cap, std::chrono::milliseconds(5000));
  EXPECT_EQ(c->topic_for_group("meters"), "readings.meters");
  EXPECT_EQ(c->topic_for_group("other"), "readings");
  auto props = c->client_properties();
  EXPECT_EQ(props["security.protocol"], "SASL_SSL");
  EXPECT_EQ(props["linger.ms"], "20");
  EXPECT_EQ(props["bootstrap.servers"], "10.0.0.1:9092,10.0.0.2:9092");
}

TEST(KafkaConfig, RefusesUnknownKeyByName) {
  auto c = parse("bootstrap = \"x\"");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, "kafka.config.unknown_key");
  EXPECT_NE(c.error().message.find("\"bootstrap\""), std::string::npos);
}

TEST(KafkaConfig, RefusesBadValuesNamingTheKey) {
  for (auto [text, key] : {std::pair{"compression = \"brotli\"", "compression"},
                           std::pair{"max_in_flight = 0", "max_in_flight"},
                           std::pair{"drain_rate = -1", "drain_rate"},
                           std::pair{"[security]\n\"sasl.mechanism\" = 3", "security.sasl.mechanism"},
                           std::pair{"retry_base_ms = 100\nretry_cap_ms = 10", "retry_cap_ms"},
                           std::pair{"command_attempts = 0", "command_attempts"},
                           std::pair{"command_retry_base_ms = 900\ncommand_retry_cap_ms = 10", "command_retry_cap_ms"}}) {
    auto c = parse(text);
    ASSERT_FALSE(c) << text;
    EXPECT_NE(c.error().message.find(key), std::string::npos) << c.error().message;
  }
}

TEST(KafkaConfig, SecretComesFromFileAndIsNeverPrinted) {
  const std::string path = ::testing::TempDir() + "/kafka-password";
  std::ofstream(path) << "hunter2-very-secret\n";
  auto c = parse(R"([security]
"sasl.username" = "edge"
"sasl.password" = "inline-secret"
[secret_files]
"ssl.key.password" = ")" + path + "\"\n");
  ASSERT_TRUE(c) << c.error().describe();
  EXPECT_EQ(c->client_properties()["ssl.key.password"], "hunter2-very-secret");

  // Whatever a component logs about its config goes through describe().
  std::ostringstream logged;
  auto logger = std::make_shared<spdlog::logger>(
      "test", std::make_shared<spdlog::sinks::ostream_sink_mt>(logged));
  logger->info("kafka config: {}", c->describe());
  EXPECT_EQ(logged.str().find("hunter2"), std::string::npos) << logged.str();
  EXPECT_EQ(logged.str().find("inline-secret"), std::string::npos) << logged.str();
  EXPECT_NE(logged.str().find(path), std::string::npos);
  EXPECT_NE(logged.str().find("sasl.username=edge"), std::string::npos);
}

TEST(KafkaConfig, MissingSecretFileIsNamed) {
  auto c = parse("[secret_files]\n\"sasl.password\" = \"/nonexistent/pw\"\n");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, "kafka.config.secret_unreadable");
  EXPECT_NE(c.error().message.find("/nonexistent/pw"), std::string::npos);
}

}  // namespace
}  // namespace edgepoll::kafka
