#include "edgepoll/pollers/config_manager.hpp"

#include <algorithm>
#include <random>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "edgepoll/pollers/device_processes.hpp"
#include "edgepoll/pollers/duration.hpp"
#include "edgepoll/supervision/supervisor.hpp"

namespace edgepoll::pollers {

using namespace supervision;

ConfigManager::ConfigManager(std::vector<DeviceConfig> devices, PollerContext context, ConfigManagerOptions options,
                             QuarantineLog* quarantine)
    : initial_(std::move(devices)),
      context_(std::move(context)),
      options_(options),
      quarantine_log_(quarantine),
      seed_(options.seed ? options.seed : std::random_device{}()) {}

Pid ConfigManager::pollers(Process& self) const {
  // `edge` is rest_for_one [config_cache, pollers, config_manager]: pollers is
  // our elder sibling, and if it restarts we are restarted after it.
  for (const auto& c : which_children(self.parent())) {
    if (c.id == "pollers") return c.pid;
  }
  return Pid{};
}

InitResult ConfigManager::init(Process& self) {
  if (!pollers(self)) {
    return InitResult::error(make_error("pollers.no_pollers", "config_manager needs a running 'pollers' sibling"));
  }
  if (!quarantine_log_) {
    start_initial(self, {});
    return InitResult::ok();
  }
  // Quarantines recorded before this start (by a previous daemon, or by this
  // process before it crashed) are read first. The answer comes from the
  // storage writer's thread; init must not block, so devices start when it arrives.
  restoring_ = true;
  quarantine_log_->restore([me = self.self()](Result<std::vector<RecordedQuarantine>> r) {
    if (auto p = me.get()) p->deliver(QuarantinesRestored{std::move(r)});
  });
  // A store that never answers must not keep every device down.
  self.send_after(std::chrono::seconds(10), RestoreTimedOut{});
  return InitResult::ok();
}

void ConfigManager::start_initial(Process& self, const std::vector<RecordedQuarantine>& recorded) {
  restoring_ = false;
  const auto wall_now = std::chrono::system_clock::now();
  for (auto& config : initial_) {
    auto it = std::find_if(recorded.begin(), recorded.end(),
                           [&](const RecordedQuarantine& q) { return q.device_id == config.id; });
    if (it == recorded.end() || it->until <= wall_now) {
      upsert(self, config);
      if (it != recorded.end()) spdlog::info("device={} event=quarantine_over_while_down", config.id);
      continue;
    }
    Device& d = devices_[config.id];
    d.config = std::make_shared<const DeviceConfig>(config);
    d.backoff = std::make_unique<FullJitterBackoff>(options_.backoff_base, options_.backoff_cap,
                                                    seed_ ^ std::hash<std::string>{}(config.id));
    d.backoff->resume_from(it->attempt);
    d.generation = next_generation_++;
    d.quarantined = true;
    show(d);
    const auto delay = std::chrono::duration_cast<Duration>(it->until - wall_now);
    spdlog::warn("device={} event=quarantine_restored attempt={} retry_in={} reason={}", config.id, it->attempt,
                 format_duration(delay), it->reason);
    self.send_after(delay, Retry{config.id, d.generation});
  }
  initial_.clear();
  publish();
  auto deferred = std::move(deferred_);
  deferred_.clear();
  for (auto& m : deferred) handle(self, m);
}

void ConfigManager::upsert(Process& self, const DeviceConfig& config) {
  auto [it, added] = devices_.try_emplace(config.id);
  Device& d = it->second;
  if (!added && d.config && *d.config == config) return;  // unchanged: leave it running
  if (!added) stop(self, d);  // replaced: only this device restarts
  d.config = std::make_shared<const DeviceConfig>(config);
  d.backoff = std::make_unique<FullJitterBackoff>(options_.backoff_base, options_.backoff_cap,
                                                  seed_ ^ std::hash<std::string>{}(config.id));
  start(self, d);
}

void ConfigManager::remove(Process& self, const std::string& id) {
  auto it = devices_.find(id);
  if (it == devices_.end()) return;
  stop(self, it->second);
  if (it->second.quarantined && quarantine_log_) quarantine_log_->released(id);
  devices_.erase(it);
  if (context_.activity) context_.activity->remove(id);
}

void ConfigManager::start(Process& self, Device& d) {
  d.generation = next_generation_++;
  d.quarantined = false;
  show(d);
  const std::string id = d.config->id;
  const std::uint64_t generation = d.generation;
  start_child(self.runtime(), pollers(self), ChildStart{"device:" + id, d.config, {}},
              [me = self.self(), id, generation](Result<Pid> pid) {
                me.get()->deliver(Started{id, generation, std::move(pid)});
              });
}

void ConfigManager::stop(Process& self, Device& d) {
  d.generation = next_generation_++;  // late replies and retries for the old one are void
  if (d.monitor) self.demonitor(d.monitor);
  d.monitor = 0;
  if (d.pid) terminate_child(self.runtime(), pollers(self), "device:" + d.config->id, [](Status) {});
  d.pid = Pid{};
}

void ConfigManager::quarantine(Process& self, Device& d, const std::string& reason) {
  if (self.clock().now() - d.started_at >= options_.stable_after) d.backoff->reset();
  const Duration delay = d.backoff->next();
  d.quarantined = true;
  d.pid = Pid{};
  d.monitor = 0;
  show(d);
  context_.counters->quarantines++;
  spdlog::warn("device={} event=quarantined attempt={} retry_in={} reason={}", d.config->id, d.backoff->attempt(),
               format_duration(delay), reason);
  if (quarantine_log_) {
    quarantine_log_->quarantined(
        {d.config->id, d.backoff->attempt(),
         std::chrono::system_clock::now() + std::chrono::duration_cast<std::chrono::system_clock::duration>(delay),
         reason});
  }
  self.send_after(delay, Retry{d.config->id, d.generation});
}

void ConfigManager::handle(Process& self, Message& message) {
  if (auto* restored = std::any_cast<QuarantinesRestored>(&message)) {
    if (!restoring_) return;  // too late: the timeout started the devices already
    if (!restored->recorded.ok()) {
      spdlog::error("config_manager event=quarantines_not_restored error={}", restored->recorded.error().describe());
      start_initial(self, {});
    } else {
      start_initial(self, restored->recorded.value());
    }
  } else if (std::any_cast<RestoreTimedOut>(&message)) {
    if (!restoring_) return;
    spdlog::error("config_manager event=quarantines_not_restored error=the store did not answer in 10 s");
    start_initial(self, {});
  } else if (restoring_) {
    deferred_.push_back(std::move(message));
    return;
  } else if (auto* started = std::any_cast<Started>(&message)) {
    auto it = devices_.find(started->id);
    if (it == devices_.end() || it->second.generation != started->generation) {
      // Superseded while it was starting (stopped, disabled or replaced before
      // the start was answered): the subtree that did start has no owner here,
      // so it goes (kill: a supervisor ignores a trappable exit from a non-parent).
      if (started->pid.ok()) self.exit(started->pid.value(), ExitReason::kill());
      return;
    }
    Device& d = it->second;
    if (!started->pid.ok()) return quarantine(self, d, "start failed: " + started->pid.error().describe());
    d.pid = started->pid.value();
    d.monitor = self.monitor(d.pid);
    d.started_at = self.clock().now();
  } else if (auto* down = std::any_cast<Down>(&message)) {
    for (auto& [id, d] : devices_) {
      if (d.monitor == down->ref) {
        // The device exhausted its own restart intensity and died alone.
        quarantine(self, d, "device subtree ended: " + down->reason.to_string());
        break;
      }
    }
  } else if (auto* retry = std::any_cast<Retry>(&message)) {
    auto it = devices_.find(retry->id);
    if (it == devices_.end() || it->second.generation != retry->generation || it->second.disabled) return;
    context_.counters->device_restarts++;
    spdlog::info("device={} event=retrying after quarantine", retry->id);
    if (quarantine_log_) quarantine_log_->released(retry->id);
    start(self, it->second);
  } else if (auto* apply = std::any_cast<ApplyDevices>(&message)) {
    std::vector<std::string> gone;
    for (const auto& [id, d] : devices_) {
      bool kept = false;
      for (const auto& c : apply->devices) kept = kept || c.id == id;
      if (!kept) gone.push_back(id);
    }
    for (const auto& id : gone) remove(self, id);
    for (const auto& c : apply->devices) upsert(self, c);
  } else if (auto* up = std::any_cast<UpsertDevice>(&message)) {
    upsert(self, up->device);
  } else if (auto* rm = std::any_cast<RemoveDevice>(&message)) {
    remove(self, rm->id);
  } else if (auto* cmd = std::any_cast<DeviceCommand>(&message)) {
    Status result = command(self, *cmd);
    if (cmd->reply) cmd->reply(std::move(result));
  } else {
    return unexpected(self, message);
  }
  publish();
}

void ConfigManager::show(const Device& d) {
  // One device at a time: 10,000 devices starting must not copy the list 10,000 times.
  if (context_.activity) context_.activity->set_device({d.config->id, d.config->interval, d.disabled, d.quarantined});
}

void ConfigManager::publish() {
  std::size_t running = 0, quarantined = 0;
  std::vector<std::string> quarantined_ids, disabled_ids;
  for (const auto& [id, d] : devices_) {
    running += d.pid ? 1 : 0;
    quarantined += d.quarantined ? 1 : 0;
    if (d.quarantined) quarantined_ids.push_back(id);
    if (d.disabled) disabled_ids.push_back(id);
  }
  std::lock_guard lock(describe_mutex_);
  running_ = running;
  quarantined_ = quarantined;
  quarantined_ids_ = std::move(quarantined_ids);
  disabled_ids_ = std::move(disabled_ids);
}

Status ConfigManager::command(Process& self, const DeviceCommand& c) {
  using Kind = DeviceCommand::Kind;
  if (c.kind == Kind::upsert) {
    if (!c.config) return make_error("command.invalid", "upsert needs a device config");
    upsert(self, *c.config);
    return ok_status();
  }
  auto it = devices_.find(c.device);
  if (it == devices_.end()) {
    return make_error("command.unknown_device", "no device '" + c.device + "' is configured", false,
                      "add it first (add_device) or check the id");
  }
  Device& d = it->second;
  switch (c.kind) {
    case Kind::set_interval: {
      DeviceConfig changed = *d.config;
      changed.interval = c.interval;
      upsert(self, changed);  // restarts this device only
      return ok_status();
    }
    case Kind::disable:
      if (d.quarantined && quarantine_log_) quarantine_log_->released(c.device);
      stop(self, d);
      d.disabled = true;
      d.quarantined = false;
      show(d);
      spdlog::info("device={} event=disabled by command", c.device);
      return ok_status();
    case Kind::enable:
      if (d.disabled) {
        d.disabled = false;
        start(self, d);
        spdlog::info("device={} event=enabled by command", c.device);
      }
      return ok_status();
    case Kind::remove:
      remove(self, c.device);
      return ok_status();
    case Kind::poll_now: {
      if (!d.pid) return make_error("command.not_running", "device '" + c.device + "' is not running (quarantined or disabled)");
      for (const auto& child : which_children(d.pid)) {
        if (child.id == "fsm" && child.pid) self.send(child.pid, PollNow{});
      }
      return ok_status();
    }
    case Kind::upsert: break;
  }
  return ok_status();
}

void ConfigManager::describe(nlohmann::json& out) const {
  std::lock_guard lock(describe_mutex_);
  out["devices_running"] = running_;
  out["devices_quarantined"] = quarantined_;
  // By name: these are the few an operator looks for (edgepollctl devices);
  // running devices are in the pollers subtree already.
  out["quarantined"] = quarantined_ids_;
  out["disabled"] = disabled_ids_;
}

}  // namespace edgepoll::pollers
