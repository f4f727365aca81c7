// The supervisor's children: bookkeeping, and the views other threads read
// (which_children, count_children, the tree snapshot).
#include <nlohmann/json.hpp>

#include "supervisor_internal.hpp"

namespace edgepoll::supervision {

Supervisor::Child& Supervisor::add_child(std::unique_ptr<Child> child) {
  std::lock_guard lock(view_mutex_);
  Child& ref = *child;
  if (dynamic()) {
    dynamic_.emplace(child.get(), std::move(child));
  } else {
    static_.push_back(std::move(child));
  }
  if (ref.pid) by_pid_[ref.pid] = &ref;
  return ref;
}

void Supervisor::remove_child(Child& child) {
  std::lock_guard lock(view_mutex_);
  if (child.pid) by_pid_.erase(child.pid);
  if (dynamic()) {
    dynamic_.erase(&child);
    return;
  }
  for (auto it = static_.begin(); it != static_.end(); ++it) {
    if (it->get() == &child) {
      static_.erase(it);
      return;
    }
  }
}

void Supervisor::set_pid(Child& child, const Pid& pid) {
  std::lock_guard lock(view_mutex_);
  if (child.pid) by_pid_.erase(child.pid);
  child.pid = pid;
  if (pid) by_pid_[pid] = &child;
}

Supervisor::Child* Supervisor::find_static(const std::string& id) const {
  for (const auto& c : static_) {
    if (c->id == id) return c.get();
  }
  return nullptr;
}

Supervisor::Child* Supervisor::find_dynamic_by_id(const std::string& id) const {
  // simple_one_for_one children are indexed by pid, as in OTP; by id is a scan.
  for (const auto& [raw, c] : dynamic_) {
    if (c->id == id) return c.get();
  }
  return nullptr;
}

Supervisor::Child* Supervisor::find_by_pid(const Pid& pid) const {
  auto it = by_pid_.find(pid);
  return it == by_pid_.end() ? nullptr : it->second;
}

std::size_t Supervisor::index_of(const Child& child) const {
  for (std::size_t i = 0; i < static_.size(); ++i) {
    if (static_[i].get() == &child) return i;
  }
  return static_.size();
}

std::vector<Supervisor::Child*> Supervisor::running_in_stop_order(std::size_t from_index) const {
  std::vector<Child*> out;
  if (dynamic()) {
    for (const auto& [raw, c] : dynamic_) {
      if (c->pid) out.push_back(c.get());
    }
    return out;
  }
  for (std::size_t i = static_.size(); i-- > from_index;) {
    if (static_[i]->pid) out.push_back(static_[i].get());
  }
  return out;
}

namespace {
ChildInfo info_of(const Supervisor::Child& c) {
  ChildInfo::State state = c.pid ? ChildInfo::State::running
                           : c.restarting ? ChildInfo::State::restarting
                                          : ChildInfo::State::stopped;
  return ChildInfo{c.id, c.pid, c.spec->type, c.spec->restart, state};
}

std::string_view state_name(ChildInfo::State s) {
  switch (s) {
    case ChildInfo::State::running: return "running";
    case ChildInfo::State::restarting: return "restarting";
    case ChildInfo::State::stopped: return "stopped";
  }
  return "unknown";
}

Supervisor* as_supervisor(const std::shared_ptr<Behaviour>& b) {
  return b && b->kind() == "supervisor" ? static_cast<Supervisor*>(b.get()) : nullptr;
}
}  // namespace

std::vector<ChildInfo> Supervisor::which_children() const {
  std::lock_guard lock(view_mutex_);
  std::vector<ChildInfo> out;
  out.reserve(static_.size() + dynamic_.size());
  for (const auto& c : static_) out.push_back(info_of(*c));
  for (const auto& [raw, c] : dynamic_) out.push_back(info_of(*c));
  return out;
}

ChildCounts Supervisor::count_children() const {
  std::lock_guard lock(view_mutex_);
  ChildCounts n;
  auto add = [&n](const Child& c) {
    ++n.specs;
    if (c.pid) ++n.active;
    if (c.spec->type == ChildType::supervisor) ++n.supervisors; else ++n.workers;
  };
  for (const auto& c : static_) add(*c);
  for (const auto& [raw, c] : dynamic_) add(*c);
  return n;
}

std::vector<std::int64_t> Supervisor::restart_ages() const {
  std::vector<std::int64_t> ages;
  if (!clock_) return ages;
  // The same rule as add_restart: a restart at second r counts while r >= now - period.
  const std::int64_t now = clock_->monotonic_seconds();
  std::lock_guard lock(view_mutex_);
  for (const auto r : restarts_)
    if (r >= now - spec_.flags.period_s) ages.push_back(now - r);
  return ages;
}

std::size_t Supervisor::restarts_in_window() const { return restart_ages().size(); }

void Supervisor::describe(nlohmann::json& out) const {
  out["strategy"] = to_string(spec_.flags.strategy);
  out["intensity"] = spec_.flags.intensity;
  out["period"] = spec_.flags.period_s;
  const auto ages = restart_ages();
  out["restarts_in_window"] = ages.size();
  out["restart_ages_s"] = ages;  // what a model of the tree needs to predict the next give-up
  const ChildCounts n = count_children();
  out["counts"] = {{"specs", n.specs}, {"active", n.active}, {"supervisors", n.supervisors},
                   {"workers", n.workers}};
  auto children = nlohmann::json::array();
  for (const ChildInfo& c : which_children()) {
    nlohmann::json entry = {{"id", c.id},
                            {"type", to_string(c.type)},
                            {"restart", to_string(c.restart)},
                            {"state", state_name(c.state)}};
    if (c.pid) {
      entry["path"] = c.pid.path();
      entry["pid"] = c.pid.id();
      // Children describe themselves outside our lock: each guards its own
      // state (supervisors add their children, workers e.g. a device's state).
      if (auto b = c.pid.get()->behaviour()) b->describe(entry);
    }
    children.push_back(std::move(entry));
  }
  out["children"] = std::move(children);
}

std::vector<ChildInfo> which_children(const Pid& sup) {
  if (!sup) return {};
  auto b = sup.get()->behaviour();  // keeps the behaviour alive while we read it
  auto* s = as_supervisor(b);
  return s ? s->which_children() : std::vector<ChildInfo>{};
}

ChildCounts count_children(const Pid& sup) {
  if (!sup) return {};
  auto b = sup.get()->behaviour();
  auto* s = as_supervisor(b);
  return s ? s->count_children() : ChildCounts{};
}

Pid find_in_tree(const Pid& root, const std::string& path) {
  if (!root || !root.alive()) return Pid{};
  if (root.path() == path) return root;
  for (const auto& c : which_children(root)) {
    if (c.pid && (path == c.pid.path() || path.rfind(c.pid.path() + "/", 0) == 0)) return find_in_tree(c.pid, path);
  }
  return Pid{};
}

namespace {
void collect_living(const Pid& sup, std::map<std::string, Pid>& out) {
  for (const auto& c : which_children(sup)) {
    if (!c.pid || !c.pid.alive()) continue;
    out[c.pid.path()] = c.pid;
    if (c.type == ChildType::supervisor) collect_living(c.pid, out);
  }
}
}  // namespace

std::map<std::string, Pid> living_processes(const Pid& root) {
  std::map<std::string, Pid> out;
  if (!root || !root.alive()) return out;
  out[root.path()] = root;
  collect_living(root, out);
  return out;
}

nlohmann::json tree_snapshot(const Pid& root) {
  nlohmann::json out = nlohmann::json::object();
  if (!root) return out;
  const std::string& path = root.path();
  out["id"] = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  out["path"] = path;
  out["pid"] = root.id();
  auto b = root.get()->behaviour();
  out["type"] = b ? std::string(b->kind()) : "dead";
  out["state"] = b && root.alive() ? "running" : "dead";
  if (b) b->describe(out);
  return out;
}

}  // namespace edgepoll::supervision
