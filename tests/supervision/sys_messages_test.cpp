// OTP's sys messages: SysPing answered by the process itself, SysSuspend
// holding the mailbox (pings too) until SysResume, in order.
#include <gtest/gtest.h>

#include "test_support.hpp"

namespace edgepoll::supervision {
namespace {
using testing::Probe;
using testing::TestNode;
using testing::TestWorker;

TEST(SysMessages, PingIsAnsweredByTheProcessNotItsBehaviour) {
  TestNode node;
  auto probe = std::make_shared<Probe>();
  auto pid = node.runtime.spawn(std::make_shared<TestWorker>(probe), "w").value();
  int pongs = 0;
  node.runtime.send(pid, SysPing{[&] { ++pongs; }});
  node.settle();
  EXPECT_EQ(pongs, 1);
  EXPECT_EQ(probe->events, std::vector<std::string>{"init"});  // the behaviour saw nothing
}

TEST(SysMessages, ASuspendedProcessHoldsMessagesAndPingsUntilResumedInOrder) {
  TestNode node;
  auto probe = std::make_shared<Probe>();
  auto pid = node.runtime.spawn(std::make_shared<TestWorker>(probe), "w").value();
  int pongs = 0;
  node.runtime.send(pid, SysSuspend{});
  node.runtime.send(pid, std::string("a"));
  node.runtime.send(pid, SysPing{[&] { ++pongs; }});
  node.runtime.send(pid, std::string("b"));
  node.settle();
  EXPECT_EQ(pongs, 0);
  EXPECT_EQ(probe->events, std::vector<std::string>{"init"});
  node.runtime.send(pid, SysResume{});
  node.settle();
  EXPECT_EQ(pongs, 1);
  EXPECT_EQ(probe->events, (std::vector<std::string>{"init", "msg:a", "msg:b"}));
}

TEST(SysMessages, ASuspendedProcessStillDiesFromAnExitSignal) {
  TestNode node;
  auto pid = node.runtime.spawn(std::make_shared<TestWorker>(), "w").value();
  node.runtime.send(pid, SysSuspend{});
  node.settle();
  node.kill(pid);
  EXPECT_FALSE(pid.get()->alive());
}

}  // namespace
}  // namespace edgepoll::supervision
