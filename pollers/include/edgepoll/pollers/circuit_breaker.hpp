#pragma once
// A per-device circuit breaker that trips on failures AND on latency.
//
// Failures: `failure_threshold` consecutive failed polls open the breaker for
// `open_for`, doubling on every re-trip up to `max_open_for`; after that one
// probe is allowed (half_open): success closes it, failure re-opens it.
// Latency: `slow_count` consecutive successful polls slower than `slow_latency`
// put the device in `slowed` and double its poll interval factor (up to
// `max_slowdown`): a struggling device is polled less often instead of being
// pushed over the edge (seed 002). As many consecutive fast polls halve the
// factor again until it is back to 1 and the breaker closed.
#include <cstdint>
#include <string_view>

#include "edgepoll/supervision/clock.hpp"

namespace edgepoll::pollers {

using supervision::Clock;
using supervision::Duration;
using supervision::TimePoint;

struct BreakerConfig {
  unsigned failure_threshold = 5;
  Duration open_for = std::chrono::seconds(30);
  Duration max_open_for = std::chrono::minutes(10);
  Duration slow_latency = std::chrono::seconds(1);
  unsigned slow_count = 3;
  double max_slowdown = 16.0;
  bool operator==(const BreakerConfig&) const = default;
};

enum class BreakerState { closed, slowed, open, half_open };
std::string_view breaker_state_name(BreakerState state);

class CircuitBreaker {
 public:
  CircuitBreaker(const Clock& clock, BreakerConfig config);

  // May a poll go out now? Moves open -> half_open once the open time is over
  // (exactly one probe is let through until its outcome is recorded).
  bool allow();
  void record_success(Duration latency);
  void record_failure();
  // The poll allow() let through never reached the device (the connection was
  // busy, restarting or backing off): no outcome to record, and a half-open
  // breaker lets the next tick probe instead of waiting for an answer forever.
  void abandon();

  BreakerState state() const { return state_; }
  // Multiplier for the poll interval (1 = nominal, 2 = half as often, ...).
  double interval_factor() const { return factor_; }
  // When an open breaker lets the next probe through.
  TimePoint reopens_at() const { return reopens_at_; }
  std::uint64_t trips() const { return trips_; }

 private:
  void trip();

  const Clock& clock_;
  BreakerConfig config_;
  BreakerState state_ = BreakerState::closed;
  unsigned consecutive_failures_ = 0;
  unsigned consecutive_slow_ = 0;
  unsigned consecutive_fast_ = 0;
  double factor_ = 1.0;
  Duration current_open_for_;
  TimePoint reopens_at_{};
  bool probe_in_flight_ = false;
  std::uint64_t trips_ = 0;
};

}  // namespace edgepoll::pollers
