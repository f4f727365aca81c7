#pragma once
// Full-jitter exponential backoff: delay = uniform(0, min(cap, base * 2^attempt)).
// Spreads retries of many clients over the whole window so that 1,000 devices
// quarantined at once do not come back at once (no thundering herd).
#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>

#include "edgepoll/supervision/clock.hpp"

namespace edgepoll::supervision {

// SplitMix64 (Steele, Lea, Flood 2014): 8 bytes of state where std::mt19937_64
// keeps 2.5 KB. Every device carries two backoffs (its connection's and the
// config manager's), so at 10,000 devices the Mersenne twister alone held 50 MB;
// a jitter needs spread, not a long period.
class SplitMix64 {
 public:
  using result_type = std::uint64_t;
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }
  result_type operator()() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  std::uint64_t state_;
};

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
  SplitMix64 rng_;
};

}  // namespace edgepoll::supervision
