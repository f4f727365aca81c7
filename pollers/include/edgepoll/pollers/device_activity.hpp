#pragma once
// Which devices are polling right now, for /ready's `devices` check, the
// devices gauges of /metrics and STATUS=. The config manager says which devices
// exist (enabled, disabled, quarantined, and their intervals); each device's
// fsm says when it last polled successfully. Safe from any thread.
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "edgepoll/supervision/clock.hpp"

namespace edgepoll::pollers {

class DeviceActivity {
 public:
  struct Device {
    std::string id;
    supervision::Duration interval{};
    bool disabled = false;
    bool quarantined = false;
  };
  struct Summary {
    std::size_t configured = 0;
    std::size_t enabled = 0;      // configured and not disabled by an operator
    std::size_t polling = 0;      // enabled and a good poll within `intervals` of its interval
    std::size_t quarantined = 0;
    std::size_t disabled = 0;
  };

  // The config manager's whole device list (replaces the previous one).
  void set_devices(const std::vector<Device>& devices);
  // One device added or changed (keeps its last good poll) / removed.
  void set_device(const Device& device);
  void remove(const std::string& id);
  // A poll that was answered and decoded.
  void polled(const std::string& id, supervision::TimePoint at);
  // "Polling" means the last good poll is at most `intervals` intervals old.
  Summary summary(supervision::TimePoint now, double intervals) const;

 private:
  struct Entry {
    Device device;
    supervision::TimePoint last_good{};
    bool ever = false;
  };
  mutable std::mutex mutex_;
  // Hashed: every good poll of every device looks its entry up.
  std::unordered_map<std::string, Entry> devices_;
};

}  // namespace edgepoll::pollers
