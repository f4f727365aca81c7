// CircuitBreaker and PollSchedule on the FakeClock: no sleeps, exact instants.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "edgepoll/pollers/circuit_breaker.hpp"
#include "edgepoll/pollers/poll_schedule.hpp"

namespace edgepoll::pollers {
namespace {

using namespace std::chrono_literals;
using supervision::FakeClock;

BreakerConfig config() {
  BreakerConfig c;
  c.failure_threshold = 3;
  c.open_for = 10s;
  c.max_open_for = 40s;
  c.slow_latency = 500ms;
  c.slow_count = 2;
  c.max_slowdown = 4;
  return c;
}

TEST(CircuitBreaker, TripsAfterConsecutiveFailuresAndProbesOnceAfterOpenFor) {
  FakeClock clock;
  CircuitBreaker b(clock, config());
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(b.allow());
    b.record_failure();
  }
  EXPECT_EQ(b.state(), BreakerState::closed);
  ASSERT_TRUE(b.allow());
  b.record_failure();
  EXPECT_EQ(b.state(), BreakerState::open);
  EXPECT_EQ(b.trips(), 1u);
  EXPECT_FALSE(b.allow());
  clock.advance(10s - 1ns);
  EXPECT_FALSE(b.allow());
  clock.advance(1ns);
  EXPECT_TRUE(b.allow());  // the probe
  EXPECT_EQ(b.state(), BreakerState::half_open);
  EXPECT_FALSE(b.allow());  // only one probe at a time
  b.record_success(10ms);
  EXPECT_EQ(b.state(), BreakerState::closed);
  EXPECT_TRUE(b.allow());
}

TEST(CircuitBreaker, SuccessInBetweenResetsTheFailureCount) {
  FakeClock clock;
  CircuitBreaker b(clock, config());
  for (int i = 0; i < 10; ++i) {
    b.record_failure();
    b.record_failure();
    b.record_success(1ms);
  }
  EXPECT_EQ(b.state(), BreakerState::closed);
}

TEST(CircuitBreaker, FailedProbeDoublesTheOpenTimeUpToTheCap) {
  FakeClock clock;
  CircuitBreaker b(clock, config());
  for (int i = 0; i < 3; ++i) b.record_failure();
  std::vector<supervision::Duration> open_times;
  for (int round = 0; round < 4; ++round) {
    const auto opened = clock.now();
    clock.advance_to(b.reopens_at());
    open_times.push_back(clock.now() - opened);
    ASSERT_TRUE(b.allow());
    b.record_failure();
    ASSERT_EQ(b.state(), BreakerState::open);
  }
  EXPECT_EQ(open_times, (std::vector<supervision::Duration>{10s, 20s, 40s, 40s}));
  // Recovery forgets the escalation.
  clock.advance_to(b.reopens_at());
  ASSERT_TRUE(b.allow());
  b.record_success(1ms);
  for (int i = 0; i < 3; ++i) b.record_failure();
  EXPECT_EQ(b.reopens_at() - clock.now(), 10s);
}

TEST(CircuitBreaker, SlowDeviceIsPolledLessOftenAndRecovers) {
  FakeClock clock;
  CircuitBreaker b(clock, config());
  b.record_success(600ms);
  EXPECT_EQ(b.interval_factor(), 1.0);
  b.record_success(600ms);
  EXPECT_EQ(b.state(), BreakerState::slowed);
  EXPECT_EQ(b.interval_factor(), 2.0);
  for (int i = 0; i < 10; ++i) b.record_success(2s);
  EXPECT_EQ(b.interval_factor(), 4.0);  // capped by max_slowdown
  EXPECT_TRUE(b.allow());               // slowed still polls, just less often
  for (int i = 0; i < 2; ++i) b.record_success(100ms);
  EXPECT_EQ(b.interval_factor(), 2.0);
  for (int i = 0; i < 2; ++i) b.record_success(100ms);
  EXPECT_EQ(b.interval_factor(), 1.0);
  EXPECT_EQ(b.state(), BreakerState::closed);
}

TEST(PollSchedule, TicksAtFixedRateFromARandomPhase) {
  FakeClock clock;
  PollSchedule s(clock, 1s, 42);
  std::vector<supervision::TimePoint> dues;
  const auto t0 = clock.now();
  s.start([&](supervision::TimePoint due) {
    EXPECT_EQ(due, clock.now());
    dues.push_back(due);
  });
  clock.advance(5s);
  ASSERT_EQ(dues.size(), 5u);
  EXPECT_EQ(dues[0] - t0, s.phase());
  EXPECT_EQ(s.phase() % 10ms, 0ns);  // on the default 10 ms grid: ticks coalesce
  for (std::size_t i = 1; i < dues.size(); ++i) EXPECT_EQ(dues[i] - dues[i - 1], 1s);
}

TEST(PollSchedule, TenThousandDevicesSpreadOverTheInterval) {
  FakeClock clock;
  constexpr int kDevices = 10'000;
  std::vector<std::unique_ptr<PollSchedule>> schedules;
  std::vector<int> per_bucket(10, 0);  // 100 ms buckets of the first second
  const auto t0 = clock.now();
  for (int i = 0; i < kDevices; ++i) {
    schedules.push_back(std::make_unique<PollSchedule>(clock, 1s, std::hash<int>{}(i) * 7919 + i));
    schedules.back()->start([&, t0](supervision::TimePoint due) {
      if (due - t0 < 1s) ++per_bucket[(due - t0) / 100ms];
    });
  }
  clock.advance(1s - 1ns);
  int total = 0;
  for (int n : per_bucket) {
    total += n;
    // A uniform spread puts ~1,000 in each bucket; a herd would put them in one.
    EXPECT_GT(n, 800);
    EXPECT_LT(n, 1200);
  }
  EXPECT_EQ(total, kDevices);
}

TEST(PollSchedule, IntervalFactorStretchesAndHoldDefersTicks) {
  FakeClock clock;
  PollSchedule s(clock, 1s, 1);
  int ticks = 0;
  s.start([&](supervision::TimePoint) { ++ticks; });
  clock.advance_to(s.next_due());
  ASSERT_EQ(ticks, 1);
  s.set_interval_factor(4.0);
  const auto after_factor = s.next_due();  // already armed at the old rate
  clock.advance_to(after_factor);
  EXPECT_EQ(ticks, 2);
  EXPECT_EQ(s.next_due() - clock.now(), 4s);
  s.hold_until(clock.now() + 30s);
  clock.advance(29s);
  EXPECT_EQ(ticks, 2);
  clock.advance(1s);
  EXPECT_EQ(ticks, 3);
  EXPECT_EQ(s.next_due() - clock.now(), 4s);
}

// A clock whose single timer the test fires by hand, at a time of its choosing:
// how a stalled event loop looks to the schedule.
class LateClock final : public supervision::Clock {
 public:
  supervision::TimePoint now() const override { return now_; }
  supervision::TimerId schedule(supervision::TimePoint at, std::function<void()> fn) override {
    due_ = at;
    fn_ = std::move(fn);
    return 1;
  }
  void cancel(supervision::TimerId) override { fn_ = nullptr; }
  void fire_late(supervision::Duration late) {
    now_ = due_ + late;
    auto fn = std::move(fn_);
    fn();
  }
  supervision::TimePoint now_{};
  supervision::TimePoint due_{};
  std::function<void()> fn_;
};

TEST(PollSchedule, LateTicksSkipMissedSlotsInsteadOfBursting) {
  LateClock clock;
  PollSchedule s(clock, 1s, 3);
  std::vector<supervision::TimePoint> dues;
  s.start([&](supervision::TimePoint due) { dues.push_back(due); });
  clock.fire_late(3500ms);
  EXPECT_EQ(dues.size(), 0u);  // 3.5 s late: shed, and the three missed slots skipped
  EXPECT_EQ(s.skipped(), 3u);
  EXPECT_EQ(s.shed(), 1u);
  const auto next = s.next_due();
  clock.fire_late(0ns);
  ASSERT_EQ(dues.size(), 1u);
  EXPECT_EQ(dues[0], next);  // the next slot on the original grid fires
  EXPECT_EQ(s.skipped(), 3u);
}

TEST(PollSchedule, ATickMoreThanHalfAnIntervalLateIsShedALittleLateOneFires) {
  LateClock clock;
  PollSchedule s(clock, 1s, 3);
  int fired = 0, shed_heard = 0;
  s.start([&](supervision::TimePoint) { ++fired; }, [&] { ++shed_heard; });
  clock.fire_late(400ms);
  EXPECT_EQ(fired, 1);
  clock.fire_late(600ms);
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(shed_heard, 1);
  EXPECT_EQ(s.shed(), 1u);
  EXPECT_EQ(s.skipped(), 0u);  // 0.6 s late is still within its own slot
  clock.fire_late(0ns);
  EXPECT_EQ(fired, 2);
}

TEST(PollSchedule, StopCancelsTheTimer) {
  FakeClock clock;
  PollSchedule s(clock, 1s, 5);
  int ticks = 0;
  s.start([&](supervision::TimePoint) { ++ticks; });
  s.stop();
  clock.advance(10s);
  EXPECT_EQ(ticks, 0);
  EXPECT_EQ(clock.pending(), 0u);
}

}  // namespace
}  // namespace edgepoll::pollers
