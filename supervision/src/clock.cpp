#include "edgepoll/supervision/clock.hpp"

#include <unordered_map>

#include <boost/asio/steady_timer.hpp>

namespace edgepoll::supervision {

// ---- SteadyClock ------------------------------------------------------------

struct SteadyClock::State {
  explicit State(boost::asio::io_context& io) : io(io) {}
  boost::asio::io_context& io;
  std::mutex mutex;
  TimerId next_id = 1;
  std::unordered_map<TimerId, std::shared_ptr<boost::asio::steady_timer>> timers;
};

SteadyClock::SteadyClock(boost::asio::io_context& io) : state_(std::make_shared<State>(io)) {}

SteadyClock::~SteadyClock() {
  std::lock_guard lock(state_->mutex);
  for (auto& [id, timer] : state_->timers) timer->cancel();
  state_->timers.clear();
}

TimePoint SteadyClock::now() const {
  return TimePoint(std::chrono::steady_clock::now().time_since_epoch());
}

TimerId SteadyClock::schedule(TimePoint at, std::function<void()> fn) {
  auto timer = std::make_shared<boost::asio::steady_timer>(state_->io);
  timer->expires_at(std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(at.time_since_epoch())));
  TimerId id;
  {
    std::lock_guard lock(state_->mutex);
    id = state_->next_id++;
    state_->timers.emplace(id, timer);
  }
  // The handler holds the state weakly: a timer outliving its clock does nothing.
  timer->async_wait([weak = std::weak_ptr<State>(state_), id, fn = std::move(fn)](
                        const boost::system::error_code& ec) {
    auto state = weak.lock();
    if (!state) return;
    {
      std::lock_guard lock(state->mutex);
      if (state->timers.erase(id) == 0) return;  // cancelled meanwhile
    }
    if (!ec) fn();
  });
  return id;
}

void SteadyClock::cancel(TimerId id) {
  std::shared_ptr<boost::asio::steady_timer> timer;
  {
    std::lock_guard lock(state_->mutex);
    auto it = state_->timers.find(id);
    if (it == state_->timers.end()) return;
    timer = std::move(it->second);
    state_->timers.erase(it);
  }
  timer->cancel();
}

// ---- FakeClock --------------------------------------------------------------

FakeClock::FakeClock(TimePoint start) : now_(start) {}

TimePoint FakeClock::now() const {
  std::lock_guard lock(mutex_);
  return now_;
}

TimerId FakeClock::schedule(TimePoint at, std::function<void()> fn) {
  std::lock_guard lock(mutex_);
  const TimerId id = next_id_++;
  timers_.emplace(std::make_pair(at, id), std::move(fn));
  return id;
}

void FakeClock::cancel(TimerId id) {
  std::lock_guard lock(mutex_);
  for (auto it = timers_.begin(); it != timers_.end(); ++it) {
    if (it->first.second == id) {
      timers_.erase(it);
      return;
    }
  }
}

TimePoint FakeClock::next_deadline() const {
  std::lock_guard lock(mutex_);
  return timers_.empty() ? TimePoint::max() : timers_.begin()->first.first;
}

std::size_t FakeClock::pending() const {
  std::lock_guard lock(mutex_);
  return timers_.size();
}

void FakeClock::advance_to(TimePoint t, const std::function<void()>& between) {
  for (;;) {
    std::function<void()> fn;
    {
      std::lock_guard lock(mutex_);
      if (timers_.empty() || timers_.begin()->first.first > t) break;
      auto it = timers_.begin();
      now_ = std::max(now_, it->first.first);
      fn = std::move(it->second);
      timers_.erase(it);
    }
    fn();  // outside the lock: it may schedule more timers
    if (between) between();
  }
  std::lock_guard lock(mutex_);
  now_ = std::max(now_, t);
}

}  // namespace edgepoll::supervision
