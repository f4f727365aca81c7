#pragma once
// When a device is polled. Fixed rate (due times do not drift with handler
// latency), with a random initial phase in [0, interval) so that 10,000 devices
// configured at once spread over the interval instead of firing together.
// The breaker stretches the interval (slow device -> poll less often); while it
// is open the fsm lets ticks come and skips them, so each one is counted.
// Driven by the Clock so that tests run on a FakeClock.
//
// A tick that comes more than half an interval late is shed, not fired: when
// the event loop is behind (a stall, a CPU hog beside it), firing every late
// tick keeps it behind, with every poll in flight at once; shedding lets it
// catch up and the device is polled at its next slot.
#include <cstdint>
#include <functional>
#include <random>

#include "edgepoll/supervision/clock.hpp"

namespace edgepoll::pollers {

using supervision::Clock;
using supervision::Duration;
using supervision::TimePoint;
using supervision::TimerId;

class PollSchedule {
 public:
  // `seed` picks the phase; derive it from the device id for a stable spread,
  // or from a random source. Due times fall on a grid of `granularity` (from
  // the clock's epoch): devices whose slots coincide fire in one wakeup of the
  // event loop instead of one each, which at 10,000 devices is most of the
  // loop's cost; 100 slots per second are still no herd.
  PollSchedule(Clock& clock, Duration interval, std::uint64_t seed,
               Duration granularity = std::chrono::milliseconds(10));
  ~PollSchedule();
  PollSchedule(const PollSchedule&) = delete;
  PollSchedule& operator=(const PollSchedule&) = delete;

  // Starts ticking: first at now + phase, then every interval * factor.
  // `on_due` gets the tick's due time (so the caller can measure lateness);
  // `on_shed` (optional) hears of each tick shed for lateness.
  void start(std::function<void(TimePoint due)> on_due, std::function<void()> on_shed = {});
  void stop();
  bool running() const { return timer_ != 0; }

  void set_interval_factor(double factor);
  // No tick before `t` (e.g. while the breaker is open); later ticks keep rate.
  void hold_until(TimePoint t);

  Duration interval() const { return interval_; }
  Duration phase() const { return phase_; }
  TimePoint next_due() const { return next_due_; }
  std::uint64_t ticks() const { return ticks_; }
  // Slots passed over because the loop was late by more than one interval.
  std::uint64_t skipped() const { return skipped_; }
  // Ticks that came more than half an interval late and were not fired.
  std::uint64_t shed() const { return shed_; }

 private:
  void arm();
  void fire();
  Duration effective_interval() const;

  Clock& clock_;
  Duration interval_;
  Duration granularity_;
  Duration phase_;
  double factor_ = 1.0;
  TimePoint hold_until_{};
  TimePoint next_due_{};
  TimerId timer_ = 0;
  std::uint64_t ticks_ = 0;
  std::uint64_t skipped_ = 0;
  std::uint64_t shed_ = 0;
  std::function<void(TimePoint)> on_due_;
  std::function<void()> on_shed_;
};

}  // namespace edgepoll::pollers
