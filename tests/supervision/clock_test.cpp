#include <gtest/gtest.h>

#include <vector>

#include "edgepoll/supervision/backoff.hpp"
#include "edgepoll/supervision/clock.hpp"

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
