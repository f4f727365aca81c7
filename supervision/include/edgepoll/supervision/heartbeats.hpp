#pragma once
// Progress reports of the node's threads besides the event loop (the storage
// writer's and every Kafka loop's): each stamps its heartbeat when it goes
// round its loop, and the watchdog pets systemd only while every one is fresh,
// so that a wedged thread gets the daemon restarted. Safe from any thread.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "edgepoll/supervision/clock.hpp"

namespace edgepoll::supervision {

class Heartbeat {
 public:
  void beat(TimePoint now) { ns_.store(now.time_since_epoch().count(), std::memory_order_relaxed); }
  TimePoint last() const {
    return TimePoint(Duration(ns_.load(std::memory_order_relaxed)));
  }

 private:
  std::atomic<std::int64_t> ns_{0};
};

class Heartbeats {
 public:
  struct Seen {
    std::string name;
    TimePoint last;
  };
  // A thread's heartbeat, listed until removed; starts as beaten at `now`.
  std::shared_ptr<Heartbeat> add(std::string name, TimePoint now) {
    auto h = std::make_shared<Heartbeat>();
    h->beat(now);
    std::lock_guard lock(mutex_);
    entries_.push_back({std::move(name), h});
    return h;
  }
  void remove(const std::shared_ptr<Heartbeat>& h) {
    std::lock_guard lock(mutex_);
    std::erase_if(entries_, [&](const Entry& e) { return e.beat == h; });
  }
  std::vector<Seen> snapshot() const {
    std::lock_guard lock(mutex_);
    std::vector<Seen> out;
    for (const auto& e : entries_) out.push_back({e.name, e.beat->last()});
    return out;
  }

 private:
  struct Entry {
    std::string name;
    std::shared_ptr<Heartbeat> beat;
  };
  mutable std::mutex mutex_;
  std::vector<Entry> entries_;
};

}  // namespace edgepoll::supervision
