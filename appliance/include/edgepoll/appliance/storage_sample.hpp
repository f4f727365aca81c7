#pragma once
// The store as the readers last measured it (outbox depth and oldest reading,
// dead letters), taken about once a second by the metrics worker so that
// /ready, /metrics and STATUS= never scan the outbox per request. Safe from any thread.
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "edgepoll/supervision/clock.hpp"

namespace edgepoll::appliance {

struct StorageSample {
  bool taken = false;  // false until the first sample
  std::int64_t readings = 0;
  std::optional<std::int64_t> oldest_timestamp_ms;  // wall clock; none when the outbox is empty
  std::int64_t dead_letters = 0;
  std::int64_t database_bytes = 0;
  supervision::TimePoint taken_at{};
  std::int64_t taken_at_wall_ms = 0;
};

class StorageSampleBoard {
 public:
  void set(StorageSample s) {
    std::lock_guard lock(mutex_);
    now_ = s;  // trivially copyable
  }
  StorageSample get() const {
    std::lock_guard lock(mutex_);
    return now_;
  }

 private:
  mutable std::mutex mutex_;
  StorageSample now_;
};

}  // namespace edgepoll::appliance
