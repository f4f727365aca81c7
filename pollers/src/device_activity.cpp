#include "edgepoll/pollers/device_activity.hpp"

namespace edgepoll::pollers {

void DeviceActivity::set_devices(const std::vector<Device>& devices) {
  std::lock_guard lock(mutex_);
  std::unordered_map<std::string, Entry> next;
  for (const auto& d : devices) {
    Entry e;
    if (auto it = devices_.find(d.id); it != devices_.end()) e = it->second;  // keeps its last good poll
    e.device = d;
    next.emplace(d.id, std::move(e));
  }
  devices_.swap(next);
}

void DeviceActivity::set_device(const Device& device) {
  std::lock_guard lock(mutex_);
  devices_[device.id].device = device;
}

void DeviceActivity::remove(const std::string& id) {
  std::lock_guard lock(mutex_);
  devices_.erase(id);
}

void DeviceActivity::polled(const std::string& id, supervision::TimePoint at) {
  std::lock_guard lock(mutex_);
  auto it = devices_.find(id);
  if (it == devices_.end()) return;  // removed meanwhile
  it->second.last_good = at;
  it->second.ever = true;
}

DeviceActivity::Summary DeviceActivity::summary(supervision::TimePoint now, double intervals) const {
  std::lock_guard lock(mutex_);
  Summary s;
  for (const auto& [id, e] : devices_) {
    ++s.configured;
    if (e.device.disabled) {
      ++s.disabled;
      continue;
    }
    ++s.enabled;
    if (e.device.quarantined) ++s.quarantined;
    const auto window = std::chrono::duration_cast<supervision::Duration>(e.device.interval * intervals);
    if (!e.device.quarantined && e.ever && now - e.last_good <= window) ++s.polling;
  }
  return s;
}

}  // namespace edgepoll::pollers
