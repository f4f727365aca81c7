#pragma once
// Time comes from a Clock so that tests about windows, timeouts and backoff run on
// a FakeClock and never sleep. Timers are part of the clock for the same reason:
// a FakeClock fires them when the test advances time.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include <boost/asio/io_context.hpp>

namespace edgepoll::supervision {

using Duration = std::chrono::nanoseconds;

// Wall-clock milliseconds since the epoch, for timestamps that leave the node
// (readings, dead letters). Never for measuring time: that is the Clock's job.
inline std::int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
using TimePoint = std::chrono::time_point<std::chrono::steady_clock, Duration>;
using TimerId = std::uint64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
  // Runs `fn` once at or after `at` (on an arbitrary thread; callers post to
  // their own strand). Returns an id for cancel().
  virtual TimerId schedule(TimePoint at, std::function<void()> fn) = 0;
  // Cancels a pending timer; harmless when it already fired.
  virtual void cancel(TimerId id) = 0;

  TimerId schedule_after(Duration d, std::function<void()> fn) {
    return schedule(now() + d, std::move(fn));
  }
  // Whole seconds of monotonic time, as OTP's erlang:monotonic_time(second): the
  // unit in which supervisor restart intensity is counted.
  std::int64_t monotonic_seconds() const {
    return std::chrono::duration_cast<std::chrono::seconds>(now().time_since_epoch()).count();
  }
};

// The real clock: std::chrono::steady_clock, with every timer in one queue that
// a single steady_timer on the io_context serves (callbacks run on the thread
// running it). Timers fire in deadline order, ties in scheduling order.
class SteadyClock final : public Clock {
 public:
  explicit SteadyClock(boost::asio::io_context& io);
  ~SteadyClock() override;  // pending timers never fire
  TimePoint now() const override;
  TimerId schedule(TimePoint at, std::function<void()> fn) override;
  void cancel(TimerId id) override;

  // Timers scheduled and neither fired nor cancelled.
  std::size_t pending() const;
  // Entries in the queue, cancelled ones not yet swept included: at most about
  // twice pending() plus a fixed slack, however many timers were cancelled.
  std::size_t queued() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// A clock that moves only when told. Timers fire in deadline order (ties in
// scheduling order) from within advance()/fire_due().
class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start = TimePoint{});
  TimePoint now() const override;
  TimerId schedule(TimePoint at, std::function<void()> fn) override;
  void cancel(TimerId id) override;

  // Deadline of the earliest pending timer, or TimePoint::max() when none.
  TimePoint next_deadline() const;
  // Moves time to `t` (never backwards) and fires every timer due by then.
  // `between` runs after each fired timer (e.g. to drain an io_context) so that
  // work a timer causes happens at the timer's own instant.
  void advance_to(TimePoint t, const std::function<void()>& between = {});
  void advance(Duration d, const std::function<void()>& between = {}) {
    advance_to(now() + d, between);
  }
  std::size_t pending() const;

 private:
  mutable std::mutex mutex_;
  TimePoint now_;
  TimerId next_id_ = 1;
  // (deadline, id) -> callback; id breaks ties in scheduling order.
  std::map<std::pair<TimePoint, TimerId>, std::function<void()>> timers_;
};

}  // namespace edgepoll::supervision
