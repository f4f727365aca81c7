#include <gtest/gtest.h>

#include "edgepoll/supervision/scenario.hpp"

namespace edgepoll::supervision {
namespace {

std::vector<std::string> trace(const std::string& text) {
  auto r = scenario::run(nlohmann::json::parse(text));
  if (!r.ok()) ADD_FAILURE() << r.error().message;
  return r.ok() ? r.value() : std::vector<std::string>{};
}

TEST(Scenario, PrintsSortedLivingPathsPerStep) {
  auto t = trace(R"({"tree": {"id": "root", "type": "supervisor", "strategy": "one_for_one",
      "children": [{"id": "b", "type": "worker"}, {"id": "a", "type": "worker", "restart": "temporary"}]},
      "steps": [{"exit": {"path": "root/a", "reason": "crash"}}, {"sleep_ms": 10}]})");
  EXPECT_EQ(t, (std::vector<std::string>{R"({"step": 0, "alive": ["root", "root/b"]})",
                                         R"({"step": 1, "alive": ["root", "root/b"]})"}));
}

TEST(Scenario, RootDefaultsToOneRestartInFiveSeconds) {
  auto t = trace(R"({"tree": {"id": "root", "type": "supervisor", "children": [{"id": "a", "type": "worker"}]},
      "steps": [{"exit": {"path": "root/a", "reason": "crash"}}, {"exit": {"path": "root/a", "reason": "kill"}}]})");
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0], R"({"step": 0, "alive": ["root", "root/a"]})");
  EXPECT_EQ(t[1], R"({"step": 1, "alive": []})");
}

TEST(Scenario, SimpleOneForOneStartChildAndFailStarts) {
  auto t = trace(R"({"tree": {"id": "root", "type": "supervisor", "strategy": "one_for_one", "intensity": 5,
      "children": [{"id": "pollers", "type": "supervisor", "strategy": "simple_one_for_one", "intensity": 2,
                    "template": {"id": "dev", "type": "worker", "restart": "permanent"}}]},
      "steps": [{"start_child": {"sup": "root/pollers", "id": "d1"}},
                {"fail_starts": {"path": "root/pollers/d1", "count": 5}},
                {"exit": {"path": "root/pollers/d1", "reason": "crash"}}]})");
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0], R"({"step": 0, "alive": ["root", "root/pollers", "root/pollers/d1"]})");
  // The failed restarts use up pollers' intensity (2); pollers is restarted empty.
  EXPECT_EQ(t[2], R"({"step": 2, "alive": ["root", "root/pollers"]})");
}

TEST(Scenario, BadInputNamesTheField) {
  auto r = scenario::run(nlohmann::json::parse(
      R"({"tree": {"id": "root", "type": "supervisor", "children": [{"id": "a", "type": "worker", "restart": "sometimes"}]}})"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "tree.children[0].restart: expected permanent|transient|temporary, got 'sometimes'");
}

}  // namespace
}  // namespace edgepoll::supervision
