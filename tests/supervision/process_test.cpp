#include <gtest/gtest.h>

#include "test_support.hpp"

namespace edgepoll::supervision {
namespace {
using namespace testing;
using namespace std::chrono_literals;

// A process that spawns linked workers on request and records what it sees.
struct SpawnLinked {
  std::shared_ptr<Probe> probe;
  bool trap;
  std::shared_ptr<Pid> out;
};
struct LinkTo {
  Pid other;
};
struct MonitorIt {
  Pid other;
};

class Parent final : public TestWorker {
 public:
  Parent(std::shared_ptr<Probe> probe, bool trap) : TestWorker(std::move(probe), trap) {}
  void handle(Process& self, Message& m) override {
    if (auto* s = std::any_cast<SpawnLinked>(&m)) {
      auto pid = self.spawn_link(std::make_shared<TestWorker>(s->probe, s->trap), self.path() + "/c");
      *s->out = pid.value();
      return;
    }
    if (auto* l = std::any_cast<LinkTo>(&m)) return self.link(l->other);
    if (auto* mo = std::any_cast<MonitorIt>(&m)) {
      self.monitor(mo->other);
      return;
    }
    TestWorker::handle(self, m);
  }
};

struct Fixture : ::testing::Test {
  TestNode node;
  Pid spawn(std::shared_ptr<Probe> probe = nullptr, bool trap = false) {
    auto pid = node.runtime.spawn(std::make_shared<Parent>(probe, trap), "p");
    return pid.value();
  }
};

TEST_F(Fixture, MessagesArriveInOrder) {
  auto probe = std::make_shared<Probe>();
  Pid p = spawn(probe);
  node.runtime.send(p, std::string("a"));
  node.runtime.send(p, std::string("b"));
  node.settle();
  EXPECT_EQ(probe->events, (std::vector<std::string>{"init", "msg:a", "msg:b"}));
}

TEST_F(Fixture, AThrowingHandlerCrashesOnlyItsProcessWithTheMessageAsReason) {
  auto probe = std::make_shared<Probe>();
  Pid p = spawn(probe);
  Pid watcher = spawn(probe, true);
  node.runtime.send(watcher, MonitorIt{p});
  node.settle();
  node.runtime.send(p, Throw{"invariant broken"});
  node.settle();
  EXPECT_FALSE(p.alive());
  EXPECT_TRUE(watcher.alive());
  EXPECT_EQ(probe->events.back(), "down:{error,invariant broken}");
}

TEST_F(Fixture, StrayMessagesOfAnyContentAreReportedAndNeverKill) {
  // The plain Behaviour expects nothing: everything goes to the catch-all.
  Pid p = node.runtime.spawn(std::make_shared<Behaviour>(), "plain").value();
  node.runtime.send(p, 42);
  node.runtime.send(p, std::string("\x01\xff binary \n junk", 17));
  node.runtime.send(p, std::make_pair(std::string("ref"), 3.5));
  node.settle();
  EXPECT_TRUE(p.alive());
  auto reports = node.observer->reports();
  ASSERT_EQ(node.observer->count(ReportKind::unexpected_message), 3u);
  EXPECT_NE(reports[1].detail.find("\\x01\\xff binary \\x0a"), std::string::npos) << reports[1].detail;
}

TEST_F(Fixture, LinkedCrashPropagatesToNonTrappingProcess) {
  auto probe = std::make_shared<Probe>();
  Pid parent = spawn(probe);
  auto child = std::make_shared<Pid>();
  node.runtime.send(parent, SpawnLinked{nullptr, false, child});
  node.settle();
  node.runtime.send(*child, ExitWith{ExitReason::error("bad")});
  node.settle();
  EXPECT_FALSE(child->alive());
  EXPECT_FALSE(parent.alive());
  EXPECT_EQ(probe->events.back(), "terminate:{error,bad}");
}

TEST_F(Fixture, NormalExitOfLinkedProcessDoesNotKillNonTrappingPeer) {
  Pid parent = spawn();
  auto child = std::make_shared<Pid>();
  node.runtime.send(parent, SpawnLinked{nullptr, false, child});
  node.settle();
  node.runtime.send(*child, ExitWith{ExitReason::normal()});
  node.settle();
  EXPECT_FALSE(child->alive());
  EXPECT_TRUE(parent.alive());
}

TEST_F(Fixture, TrappingProcessReceivesExitAsMessage) {
  auto probe = std::make_shared<Probe>();
  Pid parent = spawn(probe, true);
  auto child = std::make_shared<Pid>();
  node.runtime.send(parent, SpawnLinked{nullptr, false, child});
  node.settle();
  node.runtime.send(*child, ExitWith{ExitReason::error("x")});
  node.settle();
  EXPECT_TRUE(parent.alive());
  EXPECT_EQ(probe->events.back(), "exit:{error,x}");
}

TEST_F(Fixture, KillIsUntrappableAndLinksSeeKilled) {
  auto probe = std::make_shared<Probe>();
  Pid parent = spawn(probe, true);
  auto child = std::make_shared<Pid>();
  auto child_probe = std::make_shared<Probe>();
  node.runtime.send(parent, SpawnLinked{child_probe, true, child});
  node.settle();
  node.kill(*child);
  EXPECT_FALSE(child->alive());
  EXPECT_EQ(probe->events.back(), "exit:killed");
  // terminate() is not called on kill, as in OTP.
  EXPECT_EQ(child_probe->events, std::vector<std::string>{"init"});
}

TEST_F(Fixture, ExitSignalShutdownKillsNonTrappingProcess) {
  Pid p = spawn();
  node.runtime.exit(p, ExitReason::shutdown());
  node.settle();
  EXPECT_FALSE(p.alive());
}

TEST_F(Fixture, LinkingToADeadProcessGivesNoproc) {
  auto probe = std::make_shared<Probe>();
  Pid dead = spawn();
  node.kill(dead);
  Pid p = spawn(probe, true);
  node.runtime.send(p, LinkTo{dead});
  node.settle();
  EXPECT_EQ(probe->events.back(), "exit:noproc");
}

TEST_F(Fixture, MonitorOfADeadProcessGivesDownNoproc) {
  auto probe = std::make_shared<Probe>();
  Pid dead = spawn();
  node.kill(dead);
  Pid p = spawn(probe);
  node.runtime.send(p, MonitorIt{dead});
  node.settle();
  EXPECT_EQ(probe->events.back(), "down:noproc");
}

TEST_F(Fixture, SendAfterUsesTheClock) {
  auto probe = std::make_shared<Probe>();
  struct Later {};
  class Timed final : public TestWorker {
   public:
    using TestWorker::TestWorker;
    InitResult init(Process& self) override {
      self.send_after(100ms, std::string("tick"));
      return TestWorker::init(self);
    }
  };
  auto p = node.runtime.spawn(std::make_shared<Timed>(probe), "t").value();
  node.advance(99ms);
  EXPECT_EQ(probe->events.size(), 1u);
  node.advance(1ms);
  EXPECT_EQ(probe->events.back(), "msg:tick");
  EXPECT_TRUE(p.alive());
}

TEST_F(Fixture, OnExitCallbackRunsWhenTheProcessDies) {
  Pid p = spawn();
  ExitReason seen = ExitReason::normal();
  bool called = false;
  node.runtime.on_exit(p, [&](const ExitReason& r) {
    called = true;
    seen = r;
  });
  node.crash(p, ExitReason::shutdown("bye"));
  EXPECT_TRUE(called);
  EXPECT_EQ(seen, ExitReason::shutdown("bye"));
  EXPECT_EQ(node.runtime.live_processes(), 0u);
}

}  // namespace
}  // namespace edgepoll::supervision
