// [registration]: every key, its default, and what is refused (naming file, line, key).
#include <gtest/gtest.h>

#include "edgepoll/appliance/app_config.hpp"

namespace edgepoll::appliance {
namespace {
using namespace std::chrono_literals;

Result<AppConfig> parse(const std::string& registration) {
  return AppConfig::parse("[storage]\npath = \"/tmp/x.db\"\n" + registration,
                          "/etc/edgepoll/edgepoll.toml");
}

TEST(RegistrationConfig, AbsentMeansNoRegistration) {
  auto c = parse("");
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_FALSE(c->registration);
}

TEST(RegistrationConfig, DefaultsBesideTheRequiredEndpoints) {
  auto c = parse("[registration]\nendpoints = [\"http://127.0.0.1:2379\"]\n");
  ASSERT_TRUE(c.ok()) << c.error().describe();
  ASSERT_TRUE(c->registration);
  const auto& r = *c->registration;
  EXPECT_EQ(r.endpoints, std::vector<std::string>{"http://127.0.0.1:2379"});
  EXPECT_EQ(r.prefix, "/edgepoll");
  EXPECT_EQ(r.ttl, 10s);
  EXPECT_EQ(r.deregister_after, 10s);
  EXPECT_EQ(r.reregister_after, 30s);
  EXPECT_EQ(r.watch, (std::vector<std::string>{"root/deps", "root/edge"}));
  EXPECT_EQ(r.advertise, "");
}

TEST(RegistrationConfig, EveryKey) {
  auto c = parse(R"([registration]
endpoints = ["http://10.0.0.5:2379", "https://10.0.0.6:2379"]
prefix = "/plant/a"
ttl = "6s"
deregister_after = "90s"
reregister_after = "2m"
watch = ["root/deps"]
advertise = "10.0.0.17:8470"
)");
  ASSERT_TRUE(c.ok()) << c.error().describe();
  const auto& r = *c->registration;
  EXPECT_EQ(r.endpoints.size(), 2u);
  EXPECT_EQ(r.prefix, "/plant/a");
  EXPECT_EQ(r.ttl, 6s);
  EXPECT_EQ(r.deregister_after, 90s);
  EXPECT_EQ(r.reregister_after, 2min);
  EXPECT_EQ(r.watch, std::vector<std::string>{"root/deps"});
  EXPECT_EQ(r.advertise, "10.0.0.17:8470");
}

void expect_refused(const std::string& section, const std::string& words) {
  auto c = parse(section);
  ASSERT_FALSE(c.ok()) << section;
  EXPECT_NE(c.error().message.find("/etc/edgepoll/edgepoll.toml"), std::string::npos)
      << c.error().message;
  EXPECT_NE(c.error().message.find(words), std::string::npos) << c.error().message;
}

TEST(RegistrationConfig, RefusedNamingFileLineAndKey) {
  expect_refused("[registration]\nendpoints = [\"http://e:2379\"]\nttll = \"5s\"\n",
                 "[registration] line 5: unknown key \"ttll\"");
  expect_refused("[registration]\nprefix = \"/x\"\n", "[registration] endpoints: required");
  expect_refused("[registration]\nendpoints = []\n",
                 "[registration] endpoints (line 4): expected at least one");
  expect_refused("[registration]\nendpoints = [\"10.0.0.5:2379\"]\n",
                 "expected URLs starting with http://");
  expect_refused("[registration]\nendpoints = [\"http://e:2379\"]\nttl = \"1s\"\n",
                 "[registration] ttl (line 5): expected whole seconds, at least \"2s\"");
  expect_refused("[registration]\nendpoints = [\"http://e:2379\"]\nttl = \"2500ms\"\n",
                 "expected whole seconds");
  expect_refused("[registration]\nendpoints = [\"http://e:2379\"]\nderegister_after = 10\n",
                 "[registration] deregister_after (line 5): expected a duration");
  expect_refused("[registration]\nendpoints = [\"http://e:2379\"]\nprefix = \"edgepoll/\"\n",
                 "[registration] prefix");
  expect_refused("[registration]\nendpoints = [\"http://e:2379\"]\nwatch = [\"deps\"]\n",
                 "tree paths like \"root/deps\"");
}

}  // namespace
}  // namespace edgepoll::appliance
