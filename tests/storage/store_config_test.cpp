#include "edgepoll/storage/store_config.hpp"

#include <gtest/gtest.h>

namespace edgepoll::storage {
namespace {

Result<StoreConfig> parse(std::string_view text) { return StoreConfig::parse(toml::parse(text)); }

TEST(StoreConfig, DefaultsAreNormalSyncAndBoundedQueue) {
  auto c = parse("");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->synchronous, Synchronous::normal);
  EXPECT_GT(c->queue_capacity, 0u);
  EXPECT_GT(c->batch_max_rows, 0u);
}

TEST(StoreConfig, ParsesEveryKey) {
  auto c = parse(R"(
    path = "/tmp/x.db"
    synchronous = "FULL"
    batch_max_rows = 64
    batch_max_delay_ms = 3
    queue_capacity = 500
    max_outbox_bytes = 1000000
    max_outbox_age_s = 60
    max_db_bytes = 2000000
    busy_timeout_ms = 100
    readers = 3
  )");
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ(c->path, "/tmp/x.db");
  EXPECT_EQ(c->synchronous, Synchronous::full);
  EXPECT_EQ(c->batch_max_rows, 64u);
  EXPECT_EQ(c->batch_max_delay_ms, 3u);
  EXPECT_EQ(c->queue_capacity, 500u);
  EXPECT_EQ(c->max_outbox_bytes, 1000000u);
  EXPECT_EQ(c->max_outbox_age_s, 60u);
  EXPECT_EQ(c->max_db_bytes, 2000000u);
  EXPECT_EQ(c->busy_timeout_ms, 100u);
  EXPECT_EQ(c->readers, 3u);
}

TEST(StoreConfig, RejectsUnknownKeyByName) {
  auto c = parse("batch_rows = 5");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, "storage.config.unknown_key");
  EXPECT_NE(c.error().message.find("batch_rows"), std::string::npos);
}

TEST(StoreConfig, RejectsWrongTypesAndValuesNamingTheKey) {
  for (const char* text : {"synchronous = \"OFF\"", "batch_max_rows = 0", "queue_capacity = -1",
                           "path = 3", "readers = \"two\""}) {
    auto c = parse(text);
    ASSERT_FALSE(c.ok()) << text;
    const std::string key = std::string(text).substr(0, std::string(text).find(' '));
    EXPECT_NE(c.error().message.find(key), std::string::npos) << c.error().message;
  }
}

}  // namespace
}  // namespace edgepoll::storage
