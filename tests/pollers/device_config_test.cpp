// DeviceConfig::parse: a full section, defaults, and every kind of mistake,
// each reported with the device id and the key.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <toml++/toml.h>

#include "edgepoll/pollers/device_config.hpp"

namespace edgepoll::pollers {
namespace {

using namespace std::chrono_literals;

Result<DeviceConfig> parse(std::string_view text) {
  return DeviceConfig::parse(toml::parse(text));
}

TEST(DeviceConfig, ParsesAFullSection) {
  auto c = parse(R"(
    id = "boiler-1"
    url = "https://10.0.0.7/status"
    interval = "5s"
    timeout = "1500ms"
    max_body = 65536
    verify_tls = false
    ca_file = "/etc/ca.pem"
    auth = { type = "basic", username = "op", password_file = "/run/secret" }
    intensity = { max_restarts = 5, period = "1m" }
    breaker = { failures = 2, open_for = "10s", slow_latency = "800ms", slow_count = 4 }
    metrics = [ { pointer = "/temp", name = "boiler.temp", type = "float", unit = "degC" },
                { pointer = "/on", name = "boiler.on", type = "bool" } ]
  )");
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ(c->id, "boiler-1");
  EXPECT_EQ(c->interval, 5s);
  EXPECT_EQ(c->timeout, 1500ms);
  EXPECT_EQ(c->max_body, 65536u);
  EXPECT_FALSE(c->verify_tls);
  EXPECT_EQ(c->auth.kind, AuthKind::basic);
  EXPECT_EQ(c->auth.username, "op");
  EXPECT_EQ(c->intensity.max_restarts, 5u);
  EXPECT_EQ(c->intensity.period, 60s);
  EXPECT_EQ(c->breaker.failure_threshold, 2u);
  EXPECT_EQ(c->breaker.slow_latency, 800ms);
  ASSERT_EQ(c->metrics.size(), 2u);
  EXPECT_EQ(c->metrics[1].type, MetricType::boolean);
}

TEST(DeviceConfig, DefaultsAreSafe) {
  auto c = parse(R"(id = "d1"
                    url = "http://x/")");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->verify_tls);  // TLS verification is on unless switched off
  EXPECT_EQ(c->intensity.max_restarts, 3u);
  EXPECT_EQ(c->intensity.period, 30s);
  EXPECT_EQ(c->auth.kind, AuthKind::none);
}

void expect_error(std::string_view text, std::string_view code, std::vector<std::string> mentions) {
  auto c = parse(text);
  ASSERT_FALSE(c.ok()) << text;
  EXPECT_EQ(c.error().code, code) << c.error().describe();
  for (const auto& m : mentions)
    EXPECT_NE(c.error().message.find(m), std::string::npos)
        << "\"" << m << "\" not in: " << c.error().message;
}

TEST(DeviceConfig, UnknownKeysAreRejectedByNameWithTheDeviceId) {
  expect_error(R"(id = "d1"
                  url = "http://x/"
                  intervall = "5s")",
               "pollers.config.unknown_key", {"d1", "intervall"});
  expect_error(R"(id = "d2"
                  url = "http://x/"
                  breaker = { failurs = 3 })",
               "pollers.config.unknown_key", {"d2", "breaker", "failurs"});
  expect_error(R"(id = "d3"
                  url = "http://x/"
                  metrics = [ { pointer = "/a", name = "a", scale = 2 } ])",
               "pollers.config.unknown_key", {"d3", "metrics[0]", "scale"});
  expect_error(R"(id = "d4"
                  url = "http://x/"
                  auth = { type = "bearer", token_file = "/t", password = "inline!" })",
               "pollers.config.unknown_key", {"d4", "auth", "password"});
}

TEST(DeviceConfig, MissingAndMalformedValuesNameTheKey) {
  expect_error(R"(url = "http://x/")", "pollers.config.missing_key", {"id"});
  expect_error(R"(id = "d1")", "pollers.config.missing_key", {"d1", "url"});
  expect_error(R"(id = "bad id!"
                  url = "http://x/")", "pollers.config.bad_value", {"id"});
  expect_error(R"(id = "d1"
                  url = "ftp://x/")", "pollers.config.bad_value", {"d1", "url"});
  expect_error(R"(id = "d1"
                  url = "http://x/"
                  interval = "5 parsecs")", "pollers.config.bad_duration", {"d1", "interval"});
  expect_error(R"(id = "d1"
                  url = "http://x/"
                  interval = 5)", "pollers.config.bad_value", {"d1", "interval"});
  expect_error(R"(id = "d1"
                  url = "http://x/"
                  max_body = -1)", "pollers.config.bad_value", {"max_body"});
  expect_error(R"(id = "d1"
                  url = "http://x/"
                  metrics = [ { pointer = "temp", name = "t" } ])", "pollers.config.bad_value",
               {"d1", "pointer"});
  expect_error(R"(id = "d1"
                  url = "http://x/"
                  metrics = [ { pointer = "/t", name = "t", type = "complex" } ])",
               "pollers.config.bad_value", {"type"});
  expect_error(R"(id = "d1"
                  url = "http://x/"
                  auth = { type = "basic", username = "u" })", "pollers.config.missing_key",
               {"d1", "password_file"});
  expect_error(R"(id = "d1"
                  url = "http://x/"
                  auth = { type = "kerberos" })", "pollers.config.bad_value", {"type"});
}

TEST(DeviceConfig, EqualConfigsCompareEqualAndAChangeDoesNot) {
  const char* text = R"(id = "d1"
                        url = "http://x/"
                        metrics = [ { pointer = "/t", name = "t" } ])";
  auto a = parse(text), b = parse(text);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  b->metrics[0].unit = "K";
  EXPECT_FALSE(*a == *b);
}

TEST(LoadAuth, ReadsTheSecretFileAndDropsTheTrailingNewline) {
  const auto path = std::filesystem::temp_directory_path() / ("pollers-secret-" + std::to_string(getpid()));
  std::ofstream(path) << "hunter2\n";
  auto a = load_auth({AuthKind::basic, "op", path.string(), ""}, "d1");
  ASSERT_TRUE(a.ok()) << a.error().describe();
  EXPECT_EQ(a->secret, "hunter2");
  EXPECT_EQ(a->username, "op");
  std::ofstream(path, std::ios::trunc) << "\n";
  auto empty = load_auth({AuthKind::basic, "op", path.string(), ""}, "d1");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, "pollers.config.secret_empty");
  std::filesystem::remove(path);
  auto missing = load_auth({AuthKind::bearer, "", "", path.string()}, "d1");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "pollers.config.secret_unreadable");
  EXPECT_NE(missing.error().message.find("d1"), std::string::npos);
}

}  // namespace
}  // namespace edgepoll::pollers
