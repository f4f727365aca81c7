#include "simulator.hpp"

#include <nlohmann/json.hpp>

namespace edgepoll::devicesim {

Simulator::Simulator(std::shared_ptr<const Behaviour> fallback, std::vector<Rule> rules)
    : fallback_(std::move(fallback)), rules_(std::move(rules)) {}

std::shared_ptr<const Behaviour> Simulator::lookup(const std::string& id) const {
  // Exact id first, then the longest matching prefix rule, then the default.
  const Rule* best = nullptr;
  std::size_t best_len = 0;
  for (const auto& r : rules_) {
    if (r.pattern == id) return r.behaviour;
    if (!r.pattern.empty() && r.pattern.back() == '*') {
      const std::size_t len = r.pattern.size() - 1;
      if (id.compare(0, len, r.pattern, 0, len) == 0 && (best == nullptr || len > best_len)) {
        best = &r;
        best_len = len;
      }
    }
  }
  return best != nullptr ? best->behaviour : fallback_;
}

Decision Simulator::on_request(const std::string& id) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  auto [it, fresh] = devices_.try_emplace(id);
  Device& d = it->second;
  if (fresh) {
    d.behaviour = lookup(id);
    d.epoch = now;
  }
  ++total_;
  const auto elapsed = now - d.epoch;
  Decision out;
  out.owner = d.behaviour;
  out.leaf = &d.behaviour->at(elapsed);
  out.seq = ++d.served;
  out.uptime_s = std::chrono::duration<double>(elapsed).count();
  return out;
}

void Simulator::control(const std::string& id, std::shared_ptr<const Behaviour> behaviour) {
  std::lock_guard lock(mutex_);
  Device& d = devices_[id];
  d.behaviour = std::move(behaviour);
  d.epoch = std::chrono::steady_clock::now();
}

std::string Simulator::stats_json(bool total_only) const {
  std::lock_guard lock(mutex_);
  nlohmann::json j;
  j["total"] = total_;
  if (!total_only) {
    auto& devices = j["devices"] = nlohmann::json::object();
    for (const auto& [id, d] : devices_) devices[id] = d.served;
  }
  return j.dump();
}

}  // namespace edgepoll::devicesim
