#pragma once
// Full-jitter exponential backoff: delay = uniform(0, min(cap, base * 2^attempt)).
// Spreads retries of many clients over the whole window so that 1,000 devices
// quarantined at once do not come back at once (no thundering herd).
#include <algorithm>
#include <cstdint>
#include <random>

#include "edgepoll/supervision/clock.hpp"

namespace edgepoll::supervision {

class FullJitterBackoff {
 public:
  FullJitterBackoff(Duration base, Duration cap, std::uint64_t seed = std::random_device{}())
      : base_(base), cap_(cap), rng_(seed) {}

  // Upper bound of the window for the current attempt: min(cap, base * 2^attempt).
  Duration ceiling() const {
    if (base_ <= Duration::zero()) return Duration::zero();
    const unsigned shift = std::min<unsigned>(attempt_, 62);
    const auto limit = cap_.count() >> shift;  // avoids overflow of base << shift
    if (base_.count() > limit) return cap_;
    return std::min(cap_, Duration(base_.count() << shift));
  }
  // Delay before the next try; each call counts one more attempt.
  Duration next() {
    const Duration hi = ceiling();
    ++attempt_;
    if (hi <= Duration::zero()) return Duration::zero();
    std::uniform_int_distribution<Duration::rep> dist(0, hi.count());
    return Duration(dist(rng_));
  }
  void reset() { attempt_ = 0; }
  // Continues a backoff whose attempts were counted elsewhere (a persisted
  // quarantine after a restart of the daemon).
  void resume_from(unsigned attempt) { attempt_ = attempt; }
  unsigned attempt() const { return attempt_; }

 private:
  Duration base_;
  Duration cap_;
  unsigned attempt_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace edgepoll::supervision
