#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "edgepoll/supervision/backoff.hpp"
#include "edgepoll/supervision/clock.hpp"
#include "support/wait_for.hpp"

namespace edgepoll::supervision {
namespace {
using namespace std::chrono_literals;

TEST(FakeClock, FiresTimersInDeadlineOrderOnlyWhenAdvanced) {
  FakeClock clock;
  std::vector<int> fired;
  clock.schedule_after(30ms, [&] { fired.push_back(3); });
  clock.schedule_after(10ms, [&] { fired.push_back(1); });
  const TimerId cancelled = clock.schedule_after(20ms, [&] { fired.push_back(2); });
  clock.cancel(cancelled);
  EXPECT_TRUE(fired.empty());
  clock.advance(15ms);
  EXPECT_EQ(fired, std::vector<int>{1});
  clock.advance(15ms);
  EXPECT_EQ(fired, (std::vector<int>{1, 3}));
  EXPECT_EQ(clock.now().time_since_epoch(), 30ms);
}

TEST(FakeClock, TimerScheduledByATimerFiresInTheSameAdvanceWhenDue) {
  FakeClock clock;
  int fired = 0;
  clock.schedule_after(10ms, [&] { clock.schedule_after(10ms, [&] { ++fired; }); });
  clock.advance(25ms);
  EXPECT_EQ(fired, 1);
}

TEST(FakeClock, MonotonicSecondsAreWholeSeconds) {
  FakeClock clock;
  clock.advance(1999ms);
  EXPECT_EQ(clock.monotonic_seconds(), 1);
}

// SteadyClock: real time, so these tests check order and counts, never how long
// anything took; io.run() returns once no timer is left to wait for.

TEST(SteadyClock, FiresInDeadlineOrderAndTiesInSchedulingOrder) {
  boost::asio::io_context io;
  SteadyClock clock(io);
  std::vector<char> fired;
  const TimePoint t0 = clock.now();
  clock.schedule(t0 + 30ms, [&] { fired.push_back('a'); });
  clock.schedule(t0 + 10ms, [&] { fired.push_back('b'); });
  clock.schedule(t0 + 10ms, [&] { fired.push_back('c'); });
  clock.schedule(t0 + 20ms, [&] { fired.push_back('d'); });
  clock.schedule(t0 - 1s, [&] { fired.push_back('e'); });  // already due
  EXPECT_EQ(clock.pending(), 5U);
  io.run();
  EXPECT_EQ(fired, (std::vector<char>{'e', 'b', 'c', 'd', 'a'}));
  EXPECT_EQ(clock.pending(), 0U);
  EXPECT_GE(clock.now(), t0 + 30ms);  // none fired before its deadline
}

TEST(SteadyClock, ACancelledTimerNeverFiresAndCancellingTwiceOrAFiredOneIsHarmless) {
  boost::asio::io_context io;
  SteadyClock clock(io);
  std::vector<int> fired;
  const TimerId first = clock.schedule_after(1ms, [&] { fired.push_back(1); });
  const TimerId second = clock.schedule_after(2ms, [&] { fired.push_back(2); });
  clock.schedule_after(3ms, [&] { fired.push_back(3); });
  clock.cancel(second);
  clock.cancel(second);
  clock.cancel(0);
  io.run();
  clock.cancel(first);  // fired already
  EXPECT_EQ(fired, (std::vector<int>{1, 3}));
  EXPECT_EQ(clock.pending(), 0U);
}

TEST(SteadyClock, ASlotReusedAfterACancelIsNotCancelledByTheOldId) {
  boost::asio::io_context io;
  SteadyClock clock(io);
  const TimerId old_id = clock.schedule_after(1h, [] {});
  clock.cancel(old_id);
  bool fired = false;
  const TimerId new_id = clock.schedule_after(1ms, [&] { fired = true; });
  EXPECT_NE(new_id, old_id);
  clock.cancel(old_id);
  io.run();
  EXPECT_TRUE(fired);
}

TEST(SteadyClock, AnEarlierTimerScheduledAfterALaterOneFiresFirst) {
  boost::asio::io_context io;
  SteadyClock clock(io);
  bool late_fired = false;
  bool early_fired = false;
  const TimerId late = clock.schedule_after(1h, [&] { late_fired = true; });
  clock.schedule_after(1ms, [&] {
    early_fired = true;
    clock.cancel(late);  // nothing left to wait for: run_for() returns at once
  });
  io.run_for(60s);
  EXPECT_TRUE(io.stopped()) << "the cancelled 1 h timer still kept the loop waiting";
  EXPECT_TRUE(early_fired);
  EXPECT_FALSE(late_fired);
}

TEST(SteadyClock, ACallbackMayScheduleTheNextTimer) {
  boost::asio::io_context io;
  SteadyClock clock(io);
  int rounds = 0;
  std::function<void()> again = [&] {
    if (++rounds < 100) clock.schedule(clock.now(), again);
  };
  clock.schedule_after(1ms, again);
  io.run();
  EXPECT_EQ(rounds, 100);
}

TEST(SteadyClock, DestroyedWithPendingTimersItFiresNone) {
  boost::asio::io_context io;
  bool fired = false;
  {
    SteadyClock clock(io);
    clock.schedule_after(1ms, [&] { fired = true; });
  }
  io.run();  // only the aborted wait is left
  EXPECT_FALSE(fired);
}

TEST(SteadyClock, CancelledTimersDoNotPileUpInTheQueue) {
  boost::asio::io_context io;
  SteadyClock clock(io);
  std::vector<int> fired;
  for (int i = 0; i < 10; ++i) clock.schedule_after(Duration(1ms) * (i + 1), [&fired, i] { fired.push_back(i); });
  // A poll's timeout is scheduled and cancelled on every poll: 100,000 of them.
  for (int i = 0; i < 100000; ++i) clock.cancel(clock.schedule_after(1h, [] {}));
  EXPECT_EQ(clock.pending(), 10U);
  EXPECT_LE(clock.queued(), 2 * clock.pending() + 1024 + 1);
  io.run();
  EXPECT_EQ(fired, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST(SteadyClock, TimersScheduledAndCancelledFromAnotherThreadFireExactlyOnceEach) {
  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  SteadyClock clock(io);
  std::thread loop([&] { io.run(); });
  std::mutex mutex;
  std::multiset<int> fired;
  std::set<int> expected;
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> offset_us(0, 20000);
  for (int i = 0; i < 2000; ++i) {
    const TimerId id = clock.schedule_after(std::chrono::microseconds(offset_us(rng)), [&, i] {
      std::lock_guard lock(mutex);
      fired.insert(i);
    });
    if (i % 2 == 0) {
      clock.cancel(id);  // may race the timer firing: then it fired, once
    } else {
      expected.insert(i);
    }
  }
  EXPECT_TRUE(testing::wait_for([&] { return clock.pending() == 0; }));
  guard.reset();
  loop.join();
  std::lock_guard lock(mutex);
  for (int i : expected) EXPECT_EQ(fired.count(i), 1U) << "timer " << i;
  for (int i : fired) EXPECT_EQ(fired.count(i), 1U) << "timer " << i << " fired twice";
}

TEST(FullJitterBackoff, StaysWithinTheGrowingWindowAndTheCap) {
  FullJitterBackoff backoff(100ms, 1s, 42);
  const std::vector<Duration> ceilings = {100ms, 200ms, 400ms, 800ms, 1s, 1s};
  for (Duration ceiling : ceilings) {
    EXPECT_EQ(backoff.ceiling(), ceiling);
    const Duration d = backoff.next();
    EXPECT_GE(d, Duration::zero());
    EXPECT_LE(d, ceiling);
  }
  backoff.reset();
  EXPECT_EQ(backoff.ceiling(), 100ms);
}

TEST(FullJitterBackoff, HugeAttemptCountsDoNotOverflow) {
  FullJitterBackoff backoff(10s, 1h, 1);
  for (int i = 0; i < 200; ++i) EXPECT_LE(backoff.next(), Duration(1h));
  EXPECT_EQ(backoff.ceiling(), Duration(1h));
}

TEST(FullJitterBackoff, IsSmallEnoughToKeepTwoPerDevice) {
  // Every device's connection and its entry in the config manager hold one:
  // with std::mt19937_64 inside (2.5 KB) they were 50 MB at 10,000 devices.
  EXPECT_LE(sizeof(FullJitterBackoff), 64U);
}

TEST(FullJitterBackoff, SpreadsDelaysOverTheWholeWindow) {
  // 1,000 clients at the same attempt: their delays cover the window evenly
  // (each tenth of the window gets some), which is what prevents a herd.
  std::vector<int> buckets(10, 0);
  for (int client = 0; client < 1000; ++client) {
    FullJitterBackoff backoff(1s, 1s, static_cast<std::uint64_t>(client));
    const auto d = backoff.next();
    buckets[std::min<std::size_t>(9, static_cast<std::size_t>(d.count() * 10 / Duration(1s).count()))]++;
  }
  for (int b : buckets) EXPECT_GT(b, 50);
}

}  // namespace
}  // namespace edgepoll::supervision
