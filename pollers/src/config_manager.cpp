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

void StartedDevices::started(const std::shared_ptr<const DeviceConfig>& config) {
  std::lock_guard lock(mutex_);
  entries_[config->id] = Entry{config, std::nullopt};
}

void StartedDevices::quarantined(const std::string& id, TimePoint until) {
  std::lock_guard lock(mutex_);
  entries_[id].quarantined_until = until;
}

void StartedDevices::forget(const std::string& id) {
  std::lock_guard lock(mutex_);
  entries_.erase(id);
}

std::optional<StartedDevices::Entry> StartedDevices::find(const std::string& id) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

ConfigManager::ConfigManager(CurrentDevices current, std::shared_ptr<StartedDevices> started, PollerContext context,
                             ConfigManagerOptions options, QuarantineLog* quarantine)
    : current_(std::move(current)),
      started_(started ? std::move(started) : std::make_shared<StartedDevices>()),
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
    adopt(self, current_(), {});
    return InitResult::ok();
  }
  // Quarantines recorded before this start (by a previous daemon, or by this
  // process before it crashed) are read first. The answer comes from the
  // storage writer's thread; init must not block, so devices are adopted and
  // started when it arrives.
  restoring_ = true;
  quarantine_log_->restore([me = self.self()](Result<std::vector<RecordedQuarantine>> r) {
    if (auto p = me.get()) p->deliver(QuarantinesRestored{std::move(r)});
  });
  // A store that never answers must not keep every device down.
  self.send_after(std::chrono::seconds(10), RestoreTimedOut{});
  return InitResult::ok();
}

void ConfigManager::finish_restore(Process& self, const std::vector<RecordedQuarantine>& recorded) {
  restoring_ = false;
  adopt(self, current_(), recorded);  // the effective config now, not when init ran
  auto deferred = std::move(deferred_);
  deferred_.clear();
  for (auto& m : deferred) handle(self, m);
}

// A fresh instance (first boot, or after this process or `pollers` crashed):
// device subtrees still running under `pollers` are adopted when they run the
// effective config, replaced when they run another one, stopped when the device
// is gone or disabled; a device still in quarantine (recorded by the previous
// instance, or in the quarantine log by a previous daemon) waits out its time.
// Only what is missing is started, so a crash of the config manager never
// starts a second copy of a device beside the one that keeps polling.
void ConfigManager::adopt(Process& self, const ApplyDevices& wanted, const std::vector<RecordedQuarantine>& recorded) {
  const Pid pool = pollers(self);
  std::map<std::string, Pid> living;
  for (const auto& c : which_children(pool)) {
    if (c.pid && c.id.rfind("device:", 0) == 0) living[c.id.substr(7)] = c.pid;
  }
  std::map<std::string, const RecordedQuarantine*> logged;
  for (const auto& q : recorded) logged[q.device_id] = &q;
  const auto wall_now = std::chrono::system_clock::now();
  std::size_t adopted = 0, started = 0, stopped = 0, waiting = 0;
  auto stop_living = [&](const std::string& id) {
    terminate_child(self.runtime(), pool, "device:" + id, [](Status) {});
    ++stopped;
  };
  for (const auto& shared : wanted.devices) {
    const DeviceConfig& config = *shared;
    auto [it, added] = devices_.try_emplace(config.id);
    if (!added) continue;  // listed twice: the first wins
    Device& d = it->second;
    d.config = shared;
    d.backoff = std::make_unique<FullJitterBackoff>(options_.backoff_base, options_.backoff_cap,
                                                    seed_ ^ std::hash<std::string>{}(config.id));
    d.disabled = wanted.disabled.count(config.id) > 0;
    const RecordedQuarantine* log = nullptr;
    if (auto q = logged.find(config.id); q != logged.end()) log = q->second;
    const auto before = started_->find(config.id);
    if (auto live = living.find(config.id); live != living.end()) {
      const Pid pid = live->second;
      living.erase(live);
      if (!d.disabled && before && before->config && *before->config == config) {
        d.generation = next_generation_++;
        d.pid = pid;
        d.monitor = self.monitor(pid);
        d.started_at = self.clock().now();
        if (log) d.backoff->resume_from(log->attempt);  // it runs now, but a death resumes its backoff
        show(d);
        ++adopted;
        continue;
      }
      stop_living(config.id);
    }
    if (d.disabled) {
      if (log && quarantine_log_) quarantine_log_->released(config.id);
      started_->forget(config.id);
      show(d);
      continue;
    }
    // How long it still has to wait: the longer of what this node's previous
    // instance recorded (steady clock) and what the quarantine log says (wall clock).
    std::optional<Duration> wait;
    if (before && before->quarantined_until && *before->quarantined_until > self.clock().now()) {
      wait = *before->quarantined_until - self.clock().now();
    }
    if (log) {
      d.backoff->resume_from(log->attempt);
      if (log->until > wall_now) {
        const auto left = std::chrono::duration_cast<Duration>(log->until - wall_now);
        if (!wait || left > *wait) wait = left;
        spdlog::warn("device={} event=quarantine_restored attempt={} retry_in={} reason={}", config.id,
                     log->attempt, format_duration(*wait), log->reason);
      } else if (!wait) {
        spdlog::info("device={} event=quarantine_over_while_down", config.id);
      }
    }
    if (wait) {
      d.generation = next_generation_++;
      d.quarantined = true;
      show(d);
      self.send_after(*wait, Retry{config.id, d.generation});
      ++waiting;
      continue;
    }
    start(self, d);
    ++started;
  }
  for (const auto& [id, pid] : living) {
    stop_living(id);
    started_->forget(id);
  }
  spdlog::info("config_manager event=init devices={} adopted={} started={} stopped={} quarantined={} disabled={}",
               wanted.devices.size(), adopted, started, stopped, waiting, wanted.disabled.size());
  publish();
}

void ConfigManager::upsert(Process& self, const std::shared_ptr<const DeviceConfig>& shared,
                           bool disabled) {
  const DeviceConfig& config = *shared;
  auto [it, added] = devices_.try_emplace(config.id);
  Device& d = it->second;
  const bool same = !added && d.config && *d.config == config;
  if (same && d.disabled == disabled) return;  // unchanged: leave it running (or off)
  if (!added) stop(self, d);  // replaced or disabled: only this device restarts
  if (!same) {
    d.config = shared;
    d.backoff = std::make_unique<FullJitterBackoff>(options_.backoff_base, options_.backoff_cap,
                                                    seed_ ^ std::hash<std::string>{}(config.id));
  }
  if (disabled) {
    if (!d.disabled) spdlog::info("device={} event=disabled", config.id);
    if (d.quarantined && quarantine_log_) quarantine_log_->released(config.id);
    d.disabled = true;
    d.quarantined = false;
    d.generation = next_generation_++;  // a pending retry is void
    started_->forget(config.id);
    show(d);
    return;
  }
  if (d.disabled) spdlog::info("device={} event=enabled", config.id);
  d.disabled = false;
  start(self, d);
}

void ConfigManager::apply(Process& self, const ApplyDevices& wanted) {
  std::set<std::string> kept;  // a set: every command sends the whole list (10,000 devices)
  for (const auto& c : wanted.devices) kept.insert(c->id);
  std::vector<std::string> gone;
  for (const auto& [id, d] : devices_) {
    if (!kept.count(id)) gone.push_back(id);
  }
  for (const auto& id : gone) remove(self, id);
  for (const auto& c : wanted.devices) upsert(self, c, wanted.disabled.count(c->id) > 0);
}

void ConfigManager::remove(Process& self, const std::string& id) {
  auto it = devices_.find(id);
  if (it == devices_.end()) return;
  stop(self, it->second);
  if (it->second.quarantined && quarantine_log_) quarantine_log_->released(id);
  started_->forget(id);
  devices_.erase(it);
  if (context_.activity) context_.activity->remove(id);
}

void ConfigManager::start(Process& self, Device& d) {
  d.generation = next_generation_++;
  d.quarantined = false;
  show(d);
  const std::string id = d.config->id;
  const std::uint64_t generation = d.generation;
  started_->started(d.config);
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
  started_->quarantined(d.config->id, self.clock().now() + delay);
  self.send_after(delay, Retry{d.config->id, d.generation});
}

void ConfigManager::handle(Process& self, Message& message) {
  if (auto* restored = std::any_cast<QuarantinesRestored>(&message)) {
    if (!restoring_) return;  // too late: the timeout started the devices already
    if (!restored->recorded.ok()) {
      spdlog::error("config_manager event=quarantines_not_restored error={}", restored->recorded.error().describe());
      finish_restore(self, {});
    } else {
      finish_restore(self, restored->recorded.value());
    }
  } else if (std::any_cast<RestoreTimedOut>(&message)) {
    if (!restoring_) return;
    spdlog::error("config_manager event=quarantines_not_restored error=the store did not answer in 10 s");
    finish_restore(self, {});
  } else if (restoring_) {
    deferred_.push_back(std::move(message));
    return;
  } else if (auto* started = std::any_cast<Started>(&message)) {
    auto it = devices_.find(started->id);
    if (it == devices_.end() || it->second.generation != started->generation) {
      // Superseded while it was starting (stopped, disabled or replaced before
      // the start was answered): the subtree that did start has no owner here,
      // so it goes (kill: a supervisor ignores a trappable exit from a non-parent).
      if (started->pid.ok() && started->pid.value()) self.exit(started->pid.value(), ExitReason::kill());
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
  } else if (auto* wanted = std::any_cast<ApplyDevices>(&message)) {
    apply(self, *wanted);
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
    case Kind::enable: {
      const auto config = d.config;  // upsert may replace d.config
      upsert(self, config, c.kind == Kind::disable);
      return ok_status();
    }
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
