// The thread-backed process (supervision/loop_process.hpp) on a FakeClock: its
// waits between steps are the clock's timers, so the test moves time instead of
// sleeping, and a loop that fails ends its process without a periodic check.
#include <atomic>
#include <memory>

#include <gtest/gtest.h>

#include "../support/wait_for.hpp"
#include "edgepoll/supervision/loop_process.hpp"
#include "test_support.hpp"

namespace edgepoll::supervision {
namespace {

using namespace std::chrono_literals;
using ::edgepoll::testing::wait_for;

TEST(LoopThread, StepsAgainOnlyWhenTheClockHasMovedByTheDelayItAskedFor) {
  FakeClock clock;
  std::atomic<int> steps{0};
  Loop loop;
  loop.step = [&]() -> Result<Duration> {
    ++steps;
    return Duration(40ms);
  };
  auto heartbeat = std::make_shared<Heartbeat>();
  LoopThread thread(std::move(loop), clock, heartbeat);
  // After its first step the loop waits on a timer of the clock, not in real time.
  ASSERT_TRUE(wait_for([&] { return steps == 1 && clock.pending() == 1; }));
  EXPECT_EQ(clock.next_deadline(), clock.now() + 40ms);
  clock.advance(39ms);
  EXPECT_EQ(clock.pending(), 1u);  // not due yet: still the same wait
  clock.advance(1ms);
  ASSERT_TRUE(wait_for([&] { return steps == 2 && clock.pending() == 1; }));
  EXPECT_EQ(heartbeat->last(), clock.now()) << "beaten on the clock before the step";
  thread.stop();  // mid-wait: returns at once, no time moved
  EXPECT_EQ(steps, 2);
  EXPECT_FALSE(thread.failure().has_value());
}

TEST(LoopThread, ALongPauseIsCutIntoWaitsShortEnoughForTheHeartbeat) {
  FakeClock clock;
  std::atomic<int> steps{0};
  Loop loop;
  loop.step = [&]() -> Result<Duration> {
    ++steps;
    return Duration(30s);  // e.g. a Kafka backoff
  };
  LoopThread thread(std::move(loop), clock);
  ASSERT_TRUE(wait_for([&] { return steps == 1 && clock.pending() == 1; }));
  EXPECT_EQ(clock.next_deadline(), clock.now() + 100ms);
  thread.stop();
}

TEST(LoopThread, ARaisedWakeEndsTheWaitWithoutTheClockMoving) {
  FakeClock clock;
  std::atomic<int> steps{0};
  Loop loop;
  loop.step = [&]() -> Result<Duration> {
    ++steps;
    return Duration(50ms);
  };
  auto wake = std::make_shared<LoopWake>();
  loop.wake = wake;
  LoopThread thread(std::move(loop), clock);
  ASSERT_TRUE(wait_for([&] { return steps == 1 && clock.pending() == 1; }));
  const auto before = clock.now();
  wake->raise();
  ASSERT_TRUE(wait_for([&] { return steps == 2 && clock.pending() == 1; }));
  EXPECT_EQ(clock.now(), before);
  EXPECT_EQ(clock.next_deadline(), before + 50ms) << "the loop waits again, on the clock";
  thread.stop();
}

TEST(LoopThread, ARaiseDuringAStepIsKeptForTheNextWait) {
  FakeClock clock;
  std::atomic<int> steps{0};
  auto wake = std::make_shared<LoopWake>();
  Loop loop;
  loop.step = [&]() -> Result<Duration> {
    if (++steps == 1) wake->raise();  // e.g. rows committed while the step ran
    return Duration(50ms);
  };
  loop.wake = wake;
  LoopThread thread(std::move(loop), clock);
  // The second step follows the first without any timer: the raise was not lost.
  ASSERT_TRUE(wait_for([&] { return steps == 2 && clock.pending() == 1; }));
  EXPECT_EQ(clock.next_deadline(), clock.now() + 50ms);
  clock.advance(49ms);
  EXPECT_EQ(steps, 2) << "one raise, one early step";
  thread.stop();
}

TEST(LoopProcess, ALoopThatFailsCrashesItsProcessAtOnceWithTheLoopsError) {
  testing::TestNode node;
  std::atomic<bool> finished{false};
  auto behaviour = std::make_shared<LoopProcess>([&](Process&) -> Result<Loop> {
    Loop loop;
    loop.step = []() -> Result<Duration> { return make_error("client.fatal", "the client broke"); };
    loop.finish = [&] { finished = true; };
    return loop;
  });
  auto pid = node.runtime.spawn(behaviour, "loop");
  ASSERT_TRUE(pid.ok());
  node.settle();
  // No time passes on the clock: the process learns of the failure by message.
  ASSERT_TRUE(wait_for([&] {
    node.settle();
    return !pid->alive();
  }));
  EXPECT_TRUE(finished);
  EXPECT_EQ(node.clock.pending(), 0u) << "no periodic check left behind";
}

TEST(LoopProcess, StoppingTheProcessStopsAWaitingLoopAndRunsFinish) {
  testing::TestNode node;
  std::atomic<int> steps{0};
  std::atomic<bool> finished{false};
  auto pid = node.runtime.spawn(std::make_shared<LoopProcess>([&](Process&) -> Result<Loop> {
                                  Loop loop;
                                  loop.step = [&]() -> Result<Duration> {
                                    ++steps;
                                    return Duration(50ms);
                                  };
                                  loop.finish = [&] { finished = true; };
                                  return loop;
                                }),
                                "loop");
  ASSERT_TRUE(pid.ok());
  node.settle();
  ASSERT_TRUE(wait_for([&] { return steps == 1; }));
  node.runtime.exit(*pid, ExitReason::shutdown());
  ASSERT_TRUE(wait_for([&] {
    node.settle();
    return !pid->alive();
  }));
  EXPECT_TRUE(finished);
  EXPECT_EQ(steps, 1);
}

}  // namespace
}  // namespace edgepoll::supervision
