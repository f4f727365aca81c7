// One test per OTP supervisor rule (OTP 25 supervisor.erl is the reference).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace edgepoll::supervision {
namespace {
using namespace testing;
using namespace std::chrono_literals;

SupervisorSpec spec_of(Strategy s, std::vector<ChildSpec> children, int intensity = 3, int period = 5) {
  return SupervisorSpec{{s, intensity, period}, std::move(children)};
}
ChildSpec w(std::string id, Restart r = Restart::permanent, std::shared_ptr<Probe> probe = nullptr) {
  return worker_child(std::move(id), worker_factory(std::move(probe)), r);
}

struct SupervisorTest : ::testing::Test {
  TestNode node;
};

TEST_F(SupervisorTest, OneForOneRestartsOnlyTheCrashedChild) {
  Pid root = node.start_root(spec_of(Strategy::one_for_one, {w("a"), w("b")}));
  Pid a = node.child(root, "a"), b = node.child(root, "b");
  node.crash(a);
  EXPECT_NE(node.child(root, "a"), a);
  EXPECT_TRUE(node.child(root, "a").alive());
  EXPECT_EQ(node.child(root, "b"), b);
  EXPECT_EQ(node.observer->count(ReportKind::child_terminated, "a"), 1u);
  EXPECT_EQ(node.observer->count(ReportKind::child_restarted, "a"), 1u);
}

TEST_F(SupervisorTest, OneForAllRestartsEveryoneAndDropsTemporaryChildren) {
  Pid root = node.start_root(
      spec_of(Strategy::one_for_all, {w("a"), w("t", Restart::temporary), w("c")}));
  Pid a = node.child(root, "a"), c = node.child(root, "c");
  node.crash(c);
  EXPECT_NE(node.child(root, "a"), a);
  EXPECT_TRUE(node.child(root, "a").alive());
  EXPECT_TRUE(node.child(root, "c").alive());
  // The temporary child was ended by the group restart and is gone for good.
  auto children = which_children(root);
  ASSERT_EQ(children.size(), 2u);
  EXPECT_EQ(children[0].id, "a");
  EXPECT_EQ(children[1].id, "c");
}

TEST_F(SupervisorTest, RestForOneRestartsTheCrashedChildAndThoseAfterIt) {
  Pid root = node.start_root(spec_of(Strategy::rest_for_one, {w("a"), w("b"), w("c")}));
  Pid a = node.child(root, "a"), b = node.child(root, "b"), c = node.child(root, "c");
  node.crash(b);
  EXPECT_EQ(node.child(root, "a"), a);
  EXPECT_NE(node.child(root, "b"), b);
  EXPECT_NE(node.child(root, "c"), c);
  EXPECT_FALSE(c.alive());
  EXPECT_EQ(count_children(root).active, 3u);
}

TEST_F(SupervisorTest, TransientChildIsNotRestartedAfterACleanExit) {
  Pid root = node.start_root(spec_of(Strategy::one_for_one,
                                     {w("n", Restart::transient), w("s", Restart::transient),
                                      w("t", Restart::transient), w("x", Restart::transient)}));
  node.crash(node.child(root, "n"), ExitReason::normal());
  node.crash(node.child(root, "s"), ExitReason::shutdown());
  node.crash(node.child(root, "t"), ExitReason::shutdown("maintenance"));
  node.crash(node.child(root, "x"), ExitReason::error("crash"));
  auto children = which_children(root);
  ASSERT_EQ(children.size(), 4u);  // specs are kept, not running
  EXPECT_EQ(children[0].state, ChildInfo::State::stopped);
  EXPECT_EQ(children[1].state, ChildInfo::State::stopped);
  EXPECT_EQ(children[2].state, ChildInfo::State::stopped);
  EXPECT_EQ(children[3].state, ChildInfo::State::running);  // a crash is restarted
}

TEST_F(SupervisorTest, PermanentChildIsRestartedEvenAfterNormalExit) {
  Pid root = node.start_root(spec_of(Strategy::one_for_one, {w("p")}));
  Pid p = node.child(root, "p");
  node.crash(p, ExitReason::normal());
  EXPECT_TRUE(node.child(root, "p").alive());
  EXPECT_NE(node.child(root, "p"), p);
}

TEST_F(SupervisorTest, TemporaryChildIsNeverRestartedAndRemoved) {
  Pid root = node.start_root(spec_of(Strategy::one_for_one, {w("t", Restart::temporary), w("b")}));
  node.crash(node.child(root, "t"));
  auto children = which_children(root);
  ASSERT_EQ(children.size(), 1u);
  EXPECT_EQ(children[0].id, "b");
  EXPECT_EQ(node.observer->count(ReportKind::child_terminated, "t"), 1u);  // not silent
}

TEST_F(SupervisorTest, ExactlyMaxRRestartsInsideTheWindowAreSurvived) {
  Pid root = node.start_root(spec_of(Strategy::one_for_one, {w("a")}, 3, 5));
  for (int i = 0; i < 3; ++i) node.crash(node.child(root, "a"));
  EXPECT_TRUE(root.alive());
  EXPECT_EQ(count_children(root).active, 1u);
}

TEST_F(SupervisorTest, TheMaxRPlusFirstRestartMakesTheSupervisorExitShutdown) {
  Pid root = node.start_root(spec_of(Strategy::one_for_one, {w("a"), w("b")}, 3, 5));
  ExitReason seen = ExitReason::normal();
  node.runtime.on_exit(root, [&](const ExitReason& r) { seen = r; });
  Pid b = node.child(root, "b");
  for (int i = 0; i < 4; ++i) node.crash(node.child(root, "a"));
  EXPECT_FALSE(root.alive());
  EXPECT_FALSE(b.alive());
  EXPECT_EQ(seen, ExitReason::shutdown());
  EXPECT_EQ(node.observer->count(ReportKind::restart_intensity_reached), 1u);
  EXPECT_EQ(node.runtime.live_processes(), 0u);
}

TEST_F(SupervisorTest, TheWindowSlidesRestartsOlderThanThePeriodAreForgotten) {
  Pid root = node.start_root(spec_of(Strategy::one_for_one, {w("a")}, 2, 5));
  for (int round = 0; round < 10; ++round) {
    node.crash(node.child(root, "a"));
    node.crash(node.child(root, "a"));
    node.advance(6s);  // both restarts leave the window
  }
  EXPECT_TRUE(root.alive());
}

TEST_F(SupervisorTest, IntensityZeroGivesUpOnTheFirstRestart) {
  Pid root = node.start_root(spec_of(Strategy::one_for_one, {w("a")}, 0, 5));
  node.crash(node.child(root, "a"));
  EXPECT_FALSE(root.alive());
}

SupervisorSpec nested(Restart nested_restart) {
  return spec_of(Strategy::one_for_one,
                 {supervisor_child("inner", spec_of(Strategy::one_for_one, {w("x")}, 1, 5), nested_restart),
                  w("other")},
                 5, 5);
}

TEST_F(SupervisorTest, AGivenUpPermanentChildSupervisorIsRestartedByItsParent) {
  Pid root = node.start_root(nested(Restart::permanent));
  Pid inner = node.child(root, "inner");
  Pid other = node.child(root, "other");
  node.crash(node.child(inner, "x"));
  node.crash(node.child(inner, "x"));  // second restart in 5 s: inner gives up
  EXPECT_FALSE(inner.alive());
  EXPECT_TRUE(node.child(root, "inner").alive());
  EXPECT_TRUE(node.child(node.child(root, "inner"), "x").alive());
  EXPECT_EQ(node.child(root, "other"), other);  // one_for_one: siblings untouched
}

TEST_F(SupervisorTest, AGivenUpTransientChildSupervisorIsNotRestartedBecauseItExitsShutdown) {
  Pid root = node.start_root(nested(Restart::transient));
  Pid inner = node.child(root, "inner");
  node.crash(node.child(inner, "x"));
  node.crash(node.child(inner, "x"));
  EXPECT_FALSE(inner.alive());
  EXPECT_FALSE(node.child(root, "inner").valid());
  EXPECT_TRUE(root.alive());
}

TEST_F(SupervisorTest, AGivenUpTemporaryChildSupervisorIsRemoved) {
  Pid root = node.start_root(nested(Restart::temporary));
  Pid inner = node.child(root, "inner");
  node.crash(node.child(inner, "x"));
  node.crash(node.child(inner, "x"));
  EXPECT_EQ(which_children(root).size(), 1u);
}

TEST_F(SupervisorTest, AFailedRestartIsRetriedAndConsumesIntensity) {
  auto failures = std::make_shared<int>(0);
  Pid root = node.start_root(
      spec_of(Strategy::one_for_one, {worker_child("a", flaky_factory(failures))}, 3, 5));
  *failures = 2;
  node.crash(node.child(root, "a"));
  // crash (1) + two failed starts retried (2, 3): survives with 3 restarts used.
  EXPECT_TRUE(root.alive());
  EXPECT_TRUE(node.child(root, "a").alive());
  EXPECT_EQ(node.observer->count(ReportKind::start_error, "a"), 2u);
  auto snap = tree_snapshot(root);
  EXPECT_EQ(snap["restarts_in_window"], 3);
}

TEST_F(SupervisorTest, RestartsThatKeepFailingExhaustIntensity) {
  auto failures = std::make_shared<int>(0);
  Pid root = node.start_root(
      spec_of(Strategy::one_for_one, {worker_child("a", flaky_factory(failures))}, 3, 5));
  *failures = 100;
  node.crash(node.child(root, "a"));
  EXPECT_FALSE(root.alive());
  EXPECT_EQ(node.observer->count(ReportKind::start_error, "a"), 3u);
}

TEST_F(SupervisorTest, AStaticChildFailingAtStartFailsTheSupervisorStartWithoutRetry) {
  auto failures = std::make_shared<int>(1);
  auto probe = std::make_shared<Probe>();
  auto started = node.runtime.spawn(
      std::make_shared<Supervisor>(spec_of(Strategy::one_for_one,
                                           {w("first", Restart::permanent, probe),
                                            worker_child("bad", flaky_factory(failures))})),
      "root");
  node.settle();
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().code, "supervision.failed_to_start_child");
  EXPECT_NE(started.error().message.find("bad"), std::string::npos);
  EXPECT_EQ(*failures, 0);  // tried exactly once
  EXPECT_EQ(probe->events, (std::vector<std::string>{"init", "terminate:shutdown"}));
  EXPECT_EQ(node.runtime.live_processes(), 0u);
}

class Ignorer final : public Behaviour {
  InitResult init(Process&) override { return InitResult::ignore(); }
};

TEST_F(SupervisorTest, IgnoreFromInitKeepsTheSpecNotRunningAndDropsTemporaries) {
  ChildFactory ignoring = [](const ChildStart&) -> Result<std::shared_ptr<Behaviour>> {
    return std::shared_ptr<Behaviour>(std::make_shared<Ignorer>());
  };
  Pid root = node.start_root(spec_of(Strategy::one_for_one,
                                     {worker_child("i", ignoring), worker_child("t", ignoring, Restart::temporary),
                                      w("a")}));
  auto children = which_children(root);
  ASSERT_EQ(children.size(), 2u);
  EXPECT_EQ(children[0].id, "i");
  EXPECT_EQ(children[0].state, ChildInfo::State::stopped);
  EXPECT_TRUE(children[1].pid.alive());
}

// A worker that records its shutdown into a shared log (order of termination).
class Ordered final : public Behaviour {
 public:
  Ordered(std::string id, std::shared_ptr<std::vector<std::string>> log) : id_(std::move(id)), log_(std::move(log)) {}
  void terminate(Process&, const ExitReason& r) override { log_->push_back(id_ + ":" + r.to_string()); }

 private:
  std::string id_;
  std::shared_ptr<std::vector<std::string>> log_;
};

TEST_F(SupervisorTest, ShutdownStopsChildrenInReverseStartOrder) {
  auto log = std::make_shared<std::vector<std::string>>();
  std::vector<ChildSpec> children;
  for (std::string id : {"a", "b", "c"}) {
    children.push_back(worker_child(id, [id, log](const ChildStart&) -> Result<std::shared_ptr<Behaviour>> {
      return std::shared_ptr<Behaviour>(std::make_shared<Ordered>(id, log));
    }));
  }
  Pid root = node.start_root(spec_of(Strategy::one_for_one, std::move(children)));
  stop_supervisor(node.runtime, root, ExitReason::shutdown());
  node.settle();
  EXPECT_FALSE(root.alive());
  EXPECT_EQ(*log, (std::vector<std::string>{"c:shutdown", "b:shutdown", "a:shutdown"}));
}

// Traps exits and ignores the shutdown request: only a kill stops it.
class Stubborn final : public Behaviour {
 public:
  InitResult init(Process& self) override {
    self.trap_exits(true);
    return InitResult::ok();
  }
  void handle(Process&, Message&) override {}
};

ChildFactory stubborn() {
  return [](const ChildStart&) -> Result<std::shared_ptr<Behaviour>> {
    return std::shared_ptr<Behaviour>(std::make_shared<Stubborn>());
  };
}

TEST_F(SupervisorTest, AChildThatIgnoresShutdownIsKilledWhenItsTimeoutPasses) {
  Pid root = node.start_root(
      spec_of(Strategy::one_for_one, {worker_child("s", stubborn(), Restart::permanent, Shutdown::timeout(2s))}));
  Pid s = node.child(root, "s");
  terminate_child(node.runtime, root, "s", [](Status) {});
  node.settle();
  EXPECT_TRUE(s.alive());  // still within its 2 s
  node.advance(1999ms);
  EXPECT_TRUE(s.alive());
  node.advance(1ms);
  EXPECT_FALSE(s.alive());
  EXPECT_EQ(node.observer->count(ReportKind::shutdown_error, "s"), 1u);  // killed, not shutdown
}

TEST_F(SupervisorTest, BrutalKillDoesNotWait) {
  Pid root = node.start_root(
      spec_of(Strategy::one_for_one, {worker_child("s", stubborn(), Restart::permanent, Shutdown::brutal_kill())}));
  Pid s = node.child(root, "s");
  bool done = false;
  terminate_child(node.runtime, root, "s", [&](Status st) { done = st.ok(); });
  node.settle();
  EXPECT_TRUE(done);
  EXPECT_FALSE(s.alive());
  EXPECT_EQ(node.observer->count(ReportKind::shutdown_error), 0u);
}

TEST_F(SupervisorTest, InfinityWaitsForTheChildAndKeepsOtherRequestsWaitingInOrder) {
  Pid root = node.start_root(
      spec_of(Strategy::one_for_one, {worker_child("s", stubborn(), Restart::permanent, Shutdown::infinity()), w("b")}));
  Pid s = node.child(root, "s");
  std::vector<std::string> answers;
  terminate_child(node.runtime, root, "s", [&](Status) { answers.push_back("terminate s"); });
  delete_child(node.runtime, root, "b", [&](Status st) { answers.push_back(st.ok() ? "deleted" : st.error().code); });
  node.advance(1h);
  EXPECT_TRUE(s.alive());
  EXPECT_TRUE(answers.empty());  // the supervisor is blocked, as OTP's would be
  node.runtime.exit(s, ExitReason::kill());
  node.settle();
  EXPECT_EQ(answers, (std::vector<std::string>{"terminate s", "supervision.running"}));
}

TEST_F(SupervisorTest, DynamicApiOnStaticSupervisor) {
  Pid root = node.start_root(spec_of(Strategy::one_for_one, {w("a")}));
  std::vector<std::string> out;
  auto pid_reply = [&](Result<Pid> r) { out.push_back(r.ok() ? (r.value() ? "pid" : "ignored") : r.error().code); };
  auto status_reply = [&](Status s) { out.push_back(s.ok() ? "ok" : s.error().code); };
  start_child(node.runtime, root, w("b"), pid_reply);
  start_child(node.runtime, root, w("b"), pid_reply);
  terminate_child(node.runtime, root, "b", status_reply);
  start_child(node.runtime, root, w("b"), pid_reply);
  restart_child(node.runtime, root, "b", pid_reply);
  restart_child(node.runtime, root, "a", pid_reply);
  delete_child(node.runtime, root, "a", status_reply);
  delete_child(node.runtime, root, "b", status_reply);
  delete_child(node.runtime, root, "nope", status_reply);
  node.settle();
  EXPECT_EQ(out, (std::vector<std::string>{"pid", "supervision.already_started", "ok",
                                           "supervision.already_present", "pid", "supervision.running",
                                           "supervision.running", "supervision.running",
                                           "supervision.not_found"}));
  auto counts = count_children(root);
  EXPECT_EQ(counts.specs, 2u);
  EXPECT_EQ(counts.active, 2u);
  EXPECT_EQ(counts.workers, 2u);
}

TEST_F(SupervisorTest, SimpleOneForOneStartsRestartsAndTerminatesDynamicChildren) {
  SupervisorSpec spec = spec_of(Strategy::simple_one_for_one, {w("device", Restart::transient)}, 10, 5);
  Pid root = node.start_root(std::move(spec));
  std::vector<Pid> pids;
  for (int i = 0; i < 50; ++i) {
    start_child(node.runtime, root, ChildStart{"d" + std::to_string(i), i, {}}, [&](Result<Pid> r) { pids.push_back(r.value()); });
  }
  node.settle();
  ASSERT_EQ(pids.size(), 50u);
  EXPECT_EQ(count_children(root).active, 50u);
  EXPECT_EQ(pids[7].path(), "root/d7");
  node.crash(pids[7]);
  Pid again = node.child(root, "d7");
  EXPECT_TRUE(again.alive());
  EXPECT_NE(again, pids[7]);
  node.crash(pids[8], ExitReason::normal());  // transient + normal: gone
  EXPECT_EQ(count_children(root).specs, 49u);
  Status terminated = make_error("x", "not answered");
  terminate_child(node.runtime, root, "d9", [&](Status s) { terminated = s; });
  node.settle();
  EXPECT_TRUE(terminated.ok());
  EXPECT_EQ(count_children(root).active, 48u);
  std::string err;
  restart_child(node.runtime, root, "d1", [&](Result<Pid> r) { err = r.error().code; });
  node.settle();
  EXPECT_EQ(err, "supervision.simple_one_for_one");
  stop_supervisor(node.runtime, root, ExitReason::shutdown());
  node.settle();
  EXPECT_EQ(node.runtime.live_processes(), 0u);
}

TEST_F(SupervisorTest, AStrayMessageNeverKillsASupervisor) {
  Pid root = node.start_root(spec_of(Strategy::one_for_one, {w("a")}));
  node.runtime.send(root, std::string("hello?"));
  node.runtime.send(root, 3.14);
  node.runtime.exit(root, ExitReason::error("from an outsider"));  // trapped, not a child: ignored
  node.settle();
  EXPECT_TRUE(root.alive());
  EXPECT_EQ(node.observer->count(ReportKind::unexpected_message), 2u);
}

TEST_F(SupervisorTest, RequestsToADeadSupervisorAreAnsweredNoproc) {
  Pid root = node.start_root(spec_of(Strategy::one_for_one, {w("a")}));
  node.kill(root);
  std::string code;
  start_child(node.runtime, root, w("b"), [&](Result<Pid> r) { code = r.error().code; });
  node.settle();
  EXPECT_EQ(code, "supervision.noproc");
}

TEST_F(SupervisorTest, KillingASupervisorTakesItsChildrenWithIt) {
  Pid root = node.start_root(nested(Restart::permanent));
  Pid inner = node.child(root, "inner");
  Pid x = node.child(inner, "x");
  node.kill(root);
  EXPECT_FALSE(inner.alive());
  EXPECT_FALSE(x.alive());
  EXPECT_EQ(node.runtime.live_processes(), 0u);
}

TEST_F(SupervisorTest, SnapshotDescribesEverySupervisorAndChild) {
  Pid root = node.start_root(nested(Restart::transient));
  node.crash(node.child(root, "other"));
  auto snap = tree_snapshot(root);
  EXPECT_EQ(snap["id"], "root");
  EXPECT_EQ(snap["type"], "supervisor");
  EXPECT_EQ(snap["strategy"], "one_for_one");
  EXPECT_EQ(snap["intensity"], 5);
  EXPECT_EQ(snap["period"], 5);
  EXPECT_EQ(snap["restarts_in_window"], 1);
  EXPECT_EQ(snap["counts"]["active"], 2);
  ASSERT_EQ(snap["children"].size(), 2u);
  const auto& inner = snap["children"][0];
  EXPECT_EQ(inner["id"], "inner");
  EXPECT_EQ(inner["type"], "supervisor");
  EXPECT_EQ(inner["restart"], "transient");
  EXPECT_EQ(inner["state"], "running");
  EXPECT_EQ(inner["path"], "root/inner");
  EXPECT_EQ(inner["children"][0]["id"], "x");
  EXPECT_EQ(inner["children"][0]["state"], "running");
}

}  // namespace
}  // namespace edgepoll::supervision
