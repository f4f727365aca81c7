#pragma once
// What the registration worker last did about this node in service discovery,
// for /ready (informational: it never makes the node unready), /metrics and
// STATUS=. Written by the registration worker, read by the health side, from
// any thread.
#include <chrono>
#include <mutex>
#include <string>

namespace edgepoll::appliance {

struct RegistrationStatus {
  struct Snapshot {
    std::string state = "disabled";  // "disabled", "registered", "deregistered", "unreachable"
    std::string reason;              // why it is in that state, in words
    std::string key;                 // the key held in etcd, e.g. /edgepoll/nodes/<id>
    std::chrono::system_clock::time_point since{};
  };
  void set(Snapshot s) {
    std::lock_guard lock(mutex_);
    now_ = std::move(s);
  }
  Snapshot get() const {
    std::lock_guard lock(mutex_);
    return now_;
  }

 private:
  mutable std::mutex mutex_;
  Snapshot now_;
};

}  // namespace edgepoll::appliance
