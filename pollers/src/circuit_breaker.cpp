#include "edgepoll/pollers/circuit_breaker.hpp"

#include <algorithm>

namespace edgepoll::pollers {

std::string_view breaker_state_name(BreakerState state) {
  switch (state) {
    case BreakerState::closed: return "closed";
    case BreakerState::slowed: return "slowed";
    case BreakerState::open: return "open";
    case BreakerState::half_open: return "half_open";
  }
  return "?";
}

CircuitBreaker::CircuitBreaker(const Clock& clock, BreakerConfig config)
    : clock_(clock), config_(config), current_open_for_(config.open_for) {}

bool CircuitBreaker::allow() {
  switch (state_) {
    case BreakerState::closed:
    case BreakerState::slowed:
      return true;
    case BreakerState::open:
      if (clock_.now() < reopens_at_) return false;
      state_ = BreakerState::half_open;
      probe_in_flight_ = true;
      return true;
    case BreakerState::half_open:
      // One probe at a time: its outcome decides.
      if (probe_in_flight_) return false;
      probe_in_flight_ = true;
      return true;
  }
  return false;
}

void CircuitBreaker::record_success(Duration latency) {
  probe_in_flight_ = false;
  consecutive_failures_ = 0;
  if (state_ == BreakerState::half_open || state_ == BreakerState::open) {
    current_open_for_ = config_.open_for;  // the device recovered: forget the escalation
    state_ = factor_ > 1.0 ? BreakerState::slowed : BreakerState::closed;
  }
  if (latency > config_.slow_latency) {
    consecutive_fast_ = 0;
    if (++consecutive_slow_ >= config_.slow_count) {
      consecutive_slow_ = 0;
      factor_ = std::min(config_.max_slowdown, factor_ * 2.0);
      state_ = BreakerState::slowed;
    }
  } else {
    consecutive_slow_ = 0;
    if (factor_ > 1.0 && ++consecutive_fast_ >= config_.slow_count) {
      consecutive_fast_ = 0;
      factor_ = std::max(1.0, factor_ / 2.0);
      if (factor_ == 1.0) state_ = BreakerState::closed;
    }
  }
}

void CircuitBreaker::record_failure() {
  probe_in_flight_ = false;
  consecutive_slow_ = 0;
  consecutive_fast_ = 0;
  if (state_ == BreakerState::half_open) {
    // The probe failed: open again for twice as long (bounded).
    current_open_for_ = std::min(config_.max_open_for, current_open_for_ * 2);
    trip();
    return;
  }
  if (state_ == BreakerState::open) return;
  if (++consecutive_failures_ >= config_.failure_threshold) trip();
}

void CircuitBreaker::abandon() { probe_in_flight_ = false; }

void CircuitBreaker::trip() {
  state_ = BreakerState::open;
  consecutive_failures_ = 0;
  reopens_at_ = clock_.now() + current_open_for_;
  ++trips_;
}

}  // namespace edgepoll::pollers
