#include "edgepoll/pollers/poll_schedule.hpp"

#include <stdexcept>

namespace edgepoll::pollers {

PollSchedule::PollSchedule(Clock& clock, Duration interval, std::uint64_t seed,
                           Duration granularity)
    : clock_(clock), interval_(interval), granularity_(granularity) {
  if (interval_ <= Duration::zero()) throw std::invalid_argument("poll interval must be > 0");
  // A grid coarser than the interval, or one the interval is not a multiple of,
  // would bend the rate: then there is no grid.
  if (granularity_ <= Duration::zero() || granularity_ > interval_ ||
      interval_ % granularity_ != Duration::zero())
    granularity_ = Duration(1);
  std::mt19937_64 rng(seed);
  const auto slots = interval_ / granularity_;
  std::uniform_int_distribution<Duration::rep> dist(0, slots - 1);
  phase_ = granularity_ * dist(rng);
}

PollSchedule::~PollSchedule() {
  stop();
}

void PollSchedule::start(std::function<void(TimePoint)> on_due, std::function<void()> on_shed) {
  stop();
  on_due_ = std::move(on_due);
  on_shed_ = std::move(on_shed);
  // Round up to the grid so that every device's due times share it.
  const auto since_epoch = clock_.now().time_since_epoch();
  const auto aligned = (since_epoch + granularity_ - Duration(1)) / granularity_ * granularity_;
  next_due_ = TimePoint(aligned) + phase_;
  arm();
}

void PollSchedule::stop() {
  if (timer_ != 0) clock_.cancel(timer_);
  timer_ = 0;
}

void PollSchedule::set_interval_factor(double factor) {
  factor_ = factor < 1.0 ? 1.0 : factor;
}

void PollSchedule::hold_until(TimePoint t) {
  hold_until_ = t;
  if (timer_ != 0 && next_due_ < t) {
    clock_.cancel(timer_);
    next_due_ = t;
    arm();
  }
}

Duration PollSchedule::effective_interval() const {
  return Duration(static_cast<Duration::rep>(static_cast<double>(interval_.count()) * factor_));
}

void PollSchedule::arm() {
  if (next_due_ < hold_until_) next_due_ = hold_until_;
  timer_ = clock_.schedule(next_due_, [this] { fire(); });
}

void PollSchedule::fire() {
  const TimePoint due = next_due_;
  ++ticks_;
  // Fixed rate: the next slot follows from the due time, not from now; slots
  // already in the past (the loop was stalled) are skipped, not fired in a burst.
  const Duration step = effective_interval();
  next_due_ = due + step;
  const TimePoint now = clock_.now();
  if (next_due_ <= now) {
    const auto behind = (now - next_due_) / step + 1;
    skipped_ += static_cast<std::uint64_t>(behind);
    next_due_ += step * behind;
  }
  arm();
  // Last: the callbacks may stop() or re-tune this schedule.
  if (now - due > step / 2) {
    ++shed_;
    if (on_shed_) on_shed_();
    return;
  }
  on_due_(due);
}

}  // namespace edgepoll::pollers
