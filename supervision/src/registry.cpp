#include "edgepoll/supervision/registry.hpp"

#include <algorithm>

namespace edgepoll::supervision {

Status Registry::register_name(const std::string& name, const Pid& pid) {
  std::lock_guard lock(mutex_);
  if (!pid.alive()) {
    return make_error("supervision.noproc", "cannot register '" + name + "': process is not alive");
  }
  auto it = names_.find(name);
  if (it != names_.end() && it->second.alive()) {
    if (it->second == pid) return ok_status();
    return make_error("supervision.name_taken",
                      "name '" + name + "' is held by " + it->second.path());
  }
  names_[name] = pid;
  names_of_[pid].push_back(name);
  // A process can die between the alive() check above and this line; its
  // remove_dead() then waits for this lock and cleans the entry up.
  return ok_status();
}

void Registry::unregister_name(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto it = names_.find(name);
  if (it == names_.end()) return;
  auto& owned = names_of_[it->second];
  owned.erase(std::remove(owned.begin(), owned.end(), name), owned.end());
  if (owned.empty()) names_of_.erase(it->second);
  names_.erase(it);
}

std::optional<Pid> Registry::whereis(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = names_.find(name);
  if (it == names_.end() || !it->second.alive()) return std::nullopt;
  return it->second;
}

void Registry::join(const std::string& group, const Pid& pid) {
  std::lock_guard lock(mutex_);
  if (!pid.alive()) return;
  auto& members = groups_[group];
  if (std::find(members.begin(), members.end(), pid) != members.end()) return;
  members.push_back(pid);
  groups_of_[pid].push_back(group);
}

void Registry::leave(const std::string& group, const Pid& pid) {
  std::lock_guard lock(mutex_);
  auto g = groups_.find(group);
  if (g == groups_.end()) return;
  auto& members = g->second;
  members.erase(std::remove(members.begin(), members.end(), pid), members.end());
  if (members.empty()) groups_.erase(g);
  auto& of = groups_of_[pid];
  of.erase(std::remove(of.begin(), of.end(), group), of.end());
  if (of.empty()) groups_of_.erase(pid);
}

std::vector<Pid> Registry::members(const std::string& group) const {
  std::lock_guard lock(mutex_);
  std::vector<Pid> out;
  auto g = groups_.find(group);
  if (g == groups_.end()) return out;
  for (const auto& p : g->second) {
    if (p.alive()) out.push_back(p);
  }
  return out;
}

void Registry::remove_dead(const Pid& pid) {
  std::lock_guard lock(mutex_);
  if (auto n = names_of_.find(pid); n != names_of_.end()) {
    for (const auto& name : n->second) {
      auto it = names_.find(name);
      if (it != names_.end() && it->second == pid) names_.erase(it);
    }
    names_of_.erase(n);
  }
  if (auto g = groups_of_.find(pid); g != groups_of_.end()) {
    for (const auto& group : g->second) {
      auto it = groups_.find(group);
      if (it == groups_.end()) continue;
      auto& members = it->second;
      members.erase(std::remove(members.begin(), members.end(), pid), members.end());
      if (members.empty()) groups_.erase(it);
    }
    groups_of_.erase(g);
  }
}

}  // namespace edgepoll::supervision
