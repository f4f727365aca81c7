#include "edgepoll/supervision/clock.hpp"

#include <algorithm>
#include <vector>

#include <boost/asio/steady_timer.hpp>

namespace edgepoll::supervision {

// ---- SteadyClock ------------------------------------------------------------
//
// One steady_timer for the whole clock, armed for the earliest deadline, over a
// binary heap of (deadline, order) entries. Every device's poll schedule and
// every process's send_after land here, often thousands a second on a grid of
// shared due times: one Asio wait per wake-up instead of one allocated
// steady_timer, one handler and one map node per timer. Callbacks live in
// reusable slots; a TimerId is (slot generation << 32 | slot + 1), so cancel()
// frees the slot at once and the heap entry it leaves behind is skipped when it
// surfaces (and swept when such entries outnumber the live ones).

namespace {
constexpr std::size_t kSweepSlack = 1024;  // stale entries tolerated before a sweep
}

struct SteadyClock::State {
  explicit State(boost::asio::io_context& io) : timer(io) {}

  struct Slot {
    std::function<void()> fn;
    std::uint32_t generation = 0;
    bool live = false;
  };
  struct Entry {
    TimePoint at;
    std::uint64_t order;  // ties fire in scheduling order
    std::uint32_t slot;
    std::uint32_t generation;
  };
  // std::push_heap keeps the greatest on top; "later" makes it the earliest.
  static bool later(const Entry& a, const Entry& b) {
    return a.at != b.at ? a.at > b.at : a.order > b.order;
  }
  // The slot still holds the timer of that generation (not fired, not cancelled).
  bool holds(std::uint32_t slot, std::uint32_t generation) const {
    return slot < slots.size() && slots[slot].live && slots[slot].generation == generation;
  }
  bool stale(const Entry& e) const { return !holds(e.slot, e.generation); }

  // Frees a live slot; returns its callback so the caller destroys it outside the lock.
  std::function<void()> release(std::uint32_t slot) {
    Slot& s = slots[slot];
    std::function<void()> fn = std::move(s.fn);
    s.fn = nullptr;
    s.live = false;
    free_slots.push_back(slot);
    --live;
    return fn;
  }

  void sweep_if_needed() {
    if (heap.size() <= 2 * live + kSweepSlack) return;
    std::erase_if(heap, [this](const Entry& e) { return stale(e); });
    std::make_heap(heap.begin(), heap.end(), later);
  }

  void drop_stale_top() {
    while (!heap.empty() && stale(heap.front())) {
      std::pop_heap(heap.begin(), heap.end(), later);
      heap.pop_back();
    }
  }

  // Arms the one timer for `at`. A wait already pending is aborted by
  // expires_at(); its handler sees an old arm generation and does nothing.
  void arm(TimePoint at, const std::shared_ptr<State>& self) {
    armed_for = at;
    const std::uint64_t generation = ++arm_generation;
    timer.expires_at(std::chrono::steady_clock::time_point(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(at.time_since_epoch())));
    // The handler holds the state weakly: a wait outliving its clock does nothing.
    timer.async_wait([weak = std::weak_ptr<State>(self), generation](const boost::system::error_code& ec) {
      if (ec) return;  // aborted: re-armed or the clock is going away
      if (auto state = weak.lock()) state->wake(generation, state);
    });
  }

  void disarm() {
    if (armed_for == TimePoint::max()) return;
    armed_for = TimePoint::max();
    ++arm_generation;
    timer.cancel();
  }

  void wake(std::uint64_t generation, const std::shared_ptr<State>& self) {
    std::vector<std::function<void()>> due;
    {
      std::lock_guard lock(mutex);
      if (generation != arm_generation) return;  // superseded by an earlier deadline
      armed_for = TimePoint::max();
      const TimePoint now(std::chrono::steady_clock::now().time_since_epoch());
      while (!heap.empty() && heap.front().at <= now) {
        std::pop_heap(heap.begin(), heap.end(), later);
        const Entry e = heap.back();
        heap.pop_back();
        if (!stale(e)) due.push_back(release(e.slot));
      }
      drop_stale_top();
      if (!heap.empty()) arm(heap.front().at, self);
    }
    // Outside the lock: a callback may schedule or cancel timers.
    for (auto& fn : due) fn();
  }

  std::mutex mutex;
  boost::asio::steady_timer timer;
  std::vector<Slot> slots;
  std::vector<std::uint32_t> free_slots;
  std::vector<Entry> heap;
  std::uint64_t next_order = 0;
  std::size_t live = 0;
  TimePoint armed_for = TimePoint::max();
  std::uint64_t arm_generation = 0;
};

SteadyClock::SteadyClock(boost::asio::io_context& io) : state_(std::make_shared<State>(io)) {}

SteadyClock::~SteadyClock() {
  std::vector<State::Slot> slots;
  {
    std::lock_guard lock(state_->mutex);
    state_->disarm();
    state_->heap.clear();
    state_->free_slots.clear();
    state_->live = 0;
    slots.swap(state_->slots);
  }
}

TimePoint SteadyClock::now() const {
  return TimePoint(std::chrono::steady_clock::now().time_since_epoch());
}

TimerId SteadyClock::schedule(TimePoint at, std::function<void()> fn) {
  State& s = *state_;
  std::lock_guard lock(s.mutex);
  std::uint32_t slot;
  if (s.free_slots.empty()) {
    slot = static_cast<std::uint32_t>(s.slots.size());
    s.slots.emplace_back();
  } else {
    slot = s.free_slots.back();
    s.free_slots.pop_back();
  }
  State::Slot& entry = s.slots[slot];
  entry.fn = std::move(fn);
  entry.live = true;
  ++entry.generation;
  ++s.live;
  s.heap.push_back({at, s.next_order++, slot, entry.generation});
  std::push_heap(s.heap.begin(), s.heap.end(), State::later);
  if (at < s.armed_for) s.arm(at, state_);
  return (static_cast<TimerId>(entry.generation) << 32) | (static_cast<TimerId>(slot) + 1);
}

void SteadyClock::cancel(TimerId id) {
  const auto low = static_cast<std::uint32_t>(id & 0xffffffffU);
  if (low == 0) return;
  const std::uint32_t slot = low - 1;
  const auto generation = static_cast<std::uint32_t>(id >> 32);
  std::function<void()> dropped;  // destroyed after the lock is released
  State& s = *state_;
  std::lock_guard lock(s.mutex);
  if (!s.holds(slot, generation)) return;
  dropped = s.release(slot);
  s.sweep_if_needed();
  // Waiting for a cancelled deadline would keep io_context::run() from
  // returning (a stopped tree's timers): follow the queue's new head.
  s.drop_stale_top();
  if (s.heap.empty()) {
    s.disarm();
  } else if (s.heap.front().at > s.armed_for) {
    s.arm(s.heap.front().at, state_);
  }
}

std::size_t SteadyClock::pending() const {
  std::lock_guard lock(state_->mutex);
  return state_->live;
}

std::size_t SteadyClock::queued() const {
  std::lock_guard lock(state_->mutex);
  return state_->heap.size();
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
