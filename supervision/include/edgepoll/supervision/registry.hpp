#pragma once
// Names and groups of processes. A process leaves every name and group it holds
// when it dies, inside the runtime, so that nobody has to clean up by hand
// (seed 004: dead pg2 members and a hand-written cleanup took production down).
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "edgepoll/supervision/pid.hpp"
#include "edgepoll/supervision/result.hpp"

namespace edgepoll::supervision {

class Registry {
 public:
  // Fails with "supervision.name_taken" when a live process holds the name.
  Status register_name(const std::string& name, const Pid& pid);
  void unregister_name(const std::string& name);
  std::optional<Pid> whereis(const std::string& name) const;

  void join(const std::string& group, const Pid& pid);
  void leave(const std::string& group, const Pid& pid);
  // Live members only.
  std::vector<Pid> members(const std::string& group) const;

  // Called by the runtime when `pid` dies: drops it from every name and group.
  void remove_dead(const Pid& pid);

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Pid> names_;
  std::unordered_map<std::string, std::vector<Pid>> groups_;
  // Reverse index so that a death costs its own entries, not a scan of all.
  std::unordered_map<Pid, std::vector<std::string>> names_of_;
  std::unordered_map<Pid, std::vector<std::string>> groups_of_;
};

}  // namespace edgepoll::supervision
