#include <gtest/gtest.h>

#include "edgepoll/appliance/app_config.hpp"
#include "edgepoll/appliance/reading_pipeline.hpp"

namespace edgepoll::appliance {
namespace {
using namespace std::chrono_literals;

const char* kDevice = R"(
[[device]]
id = "boiler-1"
url = "http://127.0.0.1:8080/devices/boiler-1"
metrics = [ { pointer = "/temp", name = "temp", type = "float" } ]
)";

TEST(AppConfig, ParsesEverySection) {
  auto c = AppConfig::parse(std::string(R"(
[storage]
path = "/tmp/x.db"
[health]
port = 9000
[pollers]
backoff_base = "5s"
backoff_cap = "10m"
max_consecutive_failures = 4
)") + kDevice, "edgepoll.toml");
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ(c->storage.path, "/tmp/x.db");
  EXPECT_EQ(c->health.port, 9000);
  EXPECT_EQ(c->pollers.manager.backoff_base, 5s);
  EXPECT_EQ(c->pollers.manager.backoff_cap, 10min);
  EXPECT_EQ(c->pollers.max_consecutive_failures, 4u);
  ASSERT_EQ(c->devices.size(), 1u);
  EXPECT_EQ(c->devices[0]->id, "boiler-1");
}

TEST(AppConfig, UnknownSectionIsNamedWithFileAndLine) {
  auto c = AppConfig::parse("[storage]\npath = \"/tmp/x.db\"\n\n[storgae]\nx = 1\n", "/etc/edgepoll/edgepoll.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message, "/etc/edgepoll/edgepoll.toml: top level line 4: unknown key \"storgae\" "
            "(expected one of: node, storage, health, pollers, device, kafka, registration, control, chaos)");
}

TEST(AppConfig, SyntaxErrorsGiveLineAndColumn) {
  auto c = AppConfig::parse("[health]\nport = = 3\n", "edgepoll.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, "config.syntax");
  EXPECT_EQ(c.error().message.rfind("edgepoll.toml:2:", 0), 0u) << c.error().message;
}

TEST(AppConfig, ADeviceErrorNamesWhichDeviceTable) {
  auto c = AppConfig::parse(std::string(kDevice) + "\n[[device]]\nid = \"b\"\nurl = \"http://x/\"\ncolour = \"red\"\n",
                            "edgepoll.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("[[device]] #2"), std::string::npos) << c.error().message;
  EXPECT_NE(c.error().message.find("colour"), std::string::npos) << c.error().message;
}

TEST(AppConfig, DuplicateDeviceIdsAreRefused) {
  auto c = AppConfig::parse(std::string(kDevice) + kDevice, "edgepoll.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("boiler-1"), std::string::npos);
}

TEST(AppConfig, BackoffBaseAboveCapIsRefused) {
  auto c = AppConfig::parse("[pollers]\nbackoff_base = \"2h\"\nbackoff_cap = \"1h\"\n", "edgepoll.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("backoff_base"), std::string::npos);
}

TEST(AppConfig, AMissingFileSaysSo) {
  auto c = AppConfig::load("/nonexistent/edgepoll.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, "config.unreadable");
  EXPECT_NE(c.error().message.find("/nonexistent/edgepoll.toml"), std::string::npos);
}

TEST(ReadingPipeline, EncodesReadingsAsJson) {
  pollers::DeviceReadings r{"d1", std::chrono::system_clock::time_point(1700000000123ms),
                            {{"temp", 21.5, "degC"}, {"count", std::int64_t{3}, ""}, {"ok", true, ""}}};
  EXPECT_EQ(encode_readings(r),
            R"({"device":"d1","readings":[{"metric":"temp","unit":"degC","value":21.5},{"metric":"count","value":3},)"
            R"({"metric":"ok","value":true}],"ts":1700000000123})");
}

TEST(ReadingPipeline, WithoutAWriterReadingsWaitUpToTheBoundThenAreCountedDropped) {
  auto handle = std::make_shared<storage::WriterHandle>();
  ReadingPipeline pipeline(handle, 5);
  for (int i = 0; i < 8; ++i) pipeline.submit({"d" + std::to_string(i), std::chrono::system_clock::now(), {}});
  EXPECT_EQ(pipeline.stats().buffered, 5u);
  EXPECT_EQ(pipeline.stats().dropped, 3u);
  EXPECT_EQ(pipeline.stats().submitted, 8u);
}

TEST(AppConfig, NodeIdDefaultsToTheHostNameAndIsValidated) {
  auto defaults = AppConfig::parse("", "edgepoll.toml");
  ASSERT_TRUE(defaults.ok());
  EXPECT_FALSE(defaults->node.id.empty());
  auto named = AppConfig::parse("[node]\nid = \"boiler-room-3\"\n", "edgepoll.toml");
  ASSERT_TRUE(named.ok()) << named.error().describe();
  EXPECT_EQ(named->node.id, "boiler-room-3");
  auto bad = AppConfig::parse("[node]\nid = \"a b\"\n", "edgepoll.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("edgepoll.toml: [node] id (line 2)"), std::string::npos) << bad.error().message;
  auto unknown = AppConfig::parse("[node]\nname = \"x\"\n", "edgepoll.toml");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("unknown key \"name\""), std::string::npos);
}

}  // namespace
}  // namespace edgepoll::appliance
