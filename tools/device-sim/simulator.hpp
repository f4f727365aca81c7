#pragma once
// The simulated devices' state, separate from the HTTP plumbing: which
// behaviour each device has, since when, and how many requests it served.
// Thread-safe (one mutex): the server may run on several threads.
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "behaviour.hpp"

namespace edgepoll::devicesim {

struct Rule {
  std::string pattern;  // exact id, or a prefix ending in '*'
  std::shared_ptr<const Behaviour> behaviour;
};

struct Decision {
  std::shared_ptr<const Behaviour> owner;  // keeps `leaf` alive
  const Behaviour* leaf = nullptr;         // what to do for this request
  std::uint64_t seq = 0;                   // per-device request number
  double uptime_s = 0;                     // since the device's epoch
};

class Simulator {
 public:
  Simulator(std::shared_ptr<const Behaviour> fallback, std::vector<Rule> rules);

  Decision on_request(const std::string& id);
  void control(const std::string& id, std::shared_ptr<const Behaviour> behaviour);
  std::string stats_json(bool total_only) const;

 private:
  struct Device {
    std::shared_ptr<const Behaviour> behaviour;
    std::chrono::steady_clock::time_point epoch;
    std::uint64_t served = 0;
  };
  std::shared_ptr<const Behaviour> lookup(const std::string& id) const;

  std::shared_ptr<const Behaviour> fallback_;
  std::vector<Rule> rules_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Device> devices_;
  std::uint64_t total_ = 0;
};

}  // namespace edgepoll::devicesim
