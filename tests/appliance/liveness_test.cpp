// /health's liveness round: every top-level process answers a ping through its
// mailbox within the timeout, on a FakeClock runtime.
#include <gtest/gtest.h>

#include <optional>

#include "edgepoll/appliance/liveness.hpp"
#include "supervision/test_support.hpp"

namespace edgepoll::appliance {
namespace {
using namespace std::chrono_literals;
using namespace supervision;
using supervision::testing::TestNode;
using supervision::testing::worker_factory;

struct Tree : TestNode {
  Tree() {
    SupervisorSpec sub{{Strategy::one_for_one, 3, 5}, {worker_child("w", worker_factory())}};
    root = start_root({{Strategy::one_for_one, 3, 5}, {supervisor_child("deps", sub), worker_child("edge", worker_factory())}});
    (void)runtime.registry().register_name("root", root);
  }
  std::optional<LivenessResult> check() {
    std::optional<LivenessResult> out;
    check_liveness(runtime, "root", 500ms, [&](LivenessResult r) { out = std::move(r); });
    settle();
    return out;
  }
  Pid root;
};

TEST(Liveness, EveryTopLevelProcessAnsweringIsAlive) {
  Tree t;
  auto r = t.check();
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->alive);
  EXPECT_TRUE(r->not_answering.empty());
}

TEST(Liveness, AStalledMailboxIsNamedOnceTheTimeoutPasses) {
  Tree t;
  t.runtime.send(t.child(t.root, "deps"), SysSuspend{});
  auto r = t.check();
  EXPECT_FALSE(r) << "answered before its timeout although deps does not answer";
  std::optional<LivenessResult> late;
  check_liveness(t.runtime, "root", 500ms, [&](LivenessResult x) { late = std::move(x); });
  t.settle();
  t.advance(499ms);
  EXPECT_FALSE(late);
  t.advance(1ms);
  ASSERT_TRUE(late);
  EXPECT_FALSE(late->alive);
  EXPECT_EQ(late->not_answering, std::vector<std::string>{"root/deps"});
  // Resumed, it answers again (and the held pings come back harmlessly).
  t.runtime.send(t.child(t.root, "deps"), SysResume{});
  t.settle();
  auto again = t.check();
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->alive);
}

TEST(Liveness, ATopLevelChildThatIsNotRunningIsNamed) {
  Tree t;
  Status stopped = make_error("test.unset", "no reply");
  terminate_child(t.runtime, t.root, "edge", [&](Status s) { stopped = std::move(s); });
  t.settle();
  ASSERT_TRUE(stopped.ok());
  auto r = t.check();
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->alive);
  EXPECT_EQ(r->not_running, std::vector<std::string>{"root/edge"});
}

TEST(Liveness, NoRootIsNotAlive) {
  TestNode node;
  std::optional<LivenessResult> r;
  check_liveness(node.runtime, "root", 500ms, [&](LivenessResult x) { r = std::move(x); });
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->alive);
  EXPECT_EQ(r->not_running, std::vector<std::string>{"root"});
}

}  // namespace
}  // namespace edgepoll::appliance
