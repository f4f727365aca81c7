#include "edgepoll/appliance/config_cache.hpp"

#include <spdlog/spdlog.h>

#include <string_view>
#include <unordered_map>

#include "edgepoll/appliance/config_cache_file.hpp"
#include "edgepoll/supervision/supervisor.hpp"

namespace edgepoll::appliance {

using namespace supervision;

namespace {

// A reload parses every device afresh. Each device whose config (or key
// origins) did not change keeps the object it had, the one its running subtree
// holds, so that a reload does not leave two copies of 10,000 configs behind.
void keep_unchanged_devices(AppConfig& next, const AppConfig& before) {
  std::unordered_map<std::string_view, const std::shared_ptr<const pollers::DeviceConfig>*> old;
  old.reserve(before.devices.size());
  for (const auto& d : before.devices) old.emplace(d->id, &d);
  for (auto& d : next.devices) {
    if (auto it = old.find(d->id); it != old.end() && **it->second == *d) d = *it->second;
  }
  for (auto& [id, source] : next.device_sources) {
    auto it = before.device_sources.find(id);
    if (it != before.device_sources.end() && *it->second.keys == *source.keys)
      source.keys = it->second.keys;
  }
}

}  // namespace

ConfigView::ConfigView(AppConfig files, ConfigSource source, std::string detail)
    : files_(std::make_shared<const AppConfig>(std::move(files))),
      source_{source, std::move(detail)} {}

std::shared_ptr<const AppConfig> ConfigView::files() const {
  std::lock_guard lock(mutex_);
  return files_;
}

std::shared_ptr<const EffectiveConfig> ConfigView::effective() const {
  std::lock_guard lock(mutex_);
  return effective_;
}

ConfigStatus::Snapshot ConfigView::source() const {
  std::lock_guard lock(mutex_);
  return source_;
}

void ConfigView::set_files(std::shared_ptr<const AppConfig> files, ConfigSource source,
                           std::string detail) {
  std::lock_guard lock(mutex_);
  files_ = std::move(files);
  source_ = {source, std::move(detail)};
}

void ConfigView::set_effective(EffectiveConfig effective) {
  std::lock_guard lock(mutex_);
  effective_ = std::make_shared<const EffectiveConfig>(std::move(effective));
}

ConfigCache::ConfigCache(std::shared_ptr<ConfigView> view, std::shared_ptr<ConfigStatus> status)
    : view_(std::move(view)), status_(std::move(status)) {}

InitResult ConfigCache::init(Process& self) {
  files_ = view_->files();
  cache_path_ = config_cache_path(files_->storage);
  Overlay overlay;
  auto cached = read_config_cache(cache_path_);
  if (cached.ok()) {
    overlay = std::move(cached->overlay);
    spdlog::info("config_cache event=overlay_restored devices={} cache={}", overlay.devices.size(),
                 cache_path_.string());
  } else if (cached.error().code != "config_cache.missing") {
    // Refusing to start would take every device down over a file only we
    // write; the files alone are a whole config, and the next write repairs it.
    spdlog::error("config_cache event=cache_unreadable, starting without an overlay: {}",
                  cached.error().describe());
  }
  const auto source = view_->source();
  status_->set(source.source, source.detail);
  (void)commit(self, files_, std::move(overlay),
               /*must_persist=*/false);  // a write error is logged
  return InitResult::ok();
}

Status ConfigCache::commit(Process&, std::shared_ptr<const AppConfig> files, Overlay overlay,
                           bool must_persist) {
  EffectiveConfig effective = build_effective(*files, overlay);
  auto written = write_config_cache(cache_path_, *files, overlay, effective);
  if (!written.ok()) {
    write_failures_++;
    if (must_persist) return written;
    // The config is whole in memory; only the copy on disk is behind.
    spdlog::error("config_cache event=write_failed: {}", written.error().describe());
  }
  files_ = std::move(files);
  overlay_ = std::move(overlay);
  for (const auto& note : effective.notes) spdlog::warn("config_cache event=overlay_note {}", note);
  std::size_t disabled = 0;
  for (const auto& d : effective.devices) disabled += d.enabled ? 0 : 1;
  {
    std::lock_guard lock(describe_mutex_);
    shown_ = {{"devices", effective.devices.size()},
              {"disabled", disabled},
              {"overlay_devices", overlay_.devices.size()},
              {"source", to_string(view_->source().source)},
              {"cache", cache_path_.string()},
              {"cache_write_failures", write_failures_}};
  }
  view_->set_effective(std::move(effective));
  return written;
}

void ConfigCache::tell_config_manager(Process& self) const {
  for (const auto& c : which_children(self.parent())) {
    // Not running (restarting after us): it reads the view in its init.
    if (c.id == "config_manager" && c.pid) self.send(c.pid, view_->effective()->to_apply());
  }
}

void ConfigCache::handle(Process& self, Message& message) {
  if (auto* change = std::any_cast<OverlayChange>(&message)) {
    Overlay next = overlay_;
    const auto origin = CommandOrigin::now(change->command);
    Status s = apply_command(next, *view_->effective(), change->command, origin);
    if (s.ok()) s = commit(self, files_, std::move(next), /*must_persist=*/true);
    if (s.ok()) {
      spdlog::info("config_cache event=overlay_changed device={} by {}", change->command.device,
                   origin.describe());
      tell_config_manager(self);
    } else if (s.error().code.rfind("storage.", 0) == 0) {
      // Not applied: a change that is not on disk would be lost at the next restart.
      s = make_error("command.unavailable", "config cache not written: " + s.error().describe(),
                     true);
    }
    if (change->reply) change->reply(std::move(s));
  } else if (auto* reload = std::any_cast<ReloadFiles>(&message)) {
    const auto before = view_->effective();
    if (files_) keep_unchanged_devices(reload->files, *files_);
    // One copy of the reloaded files, shared by the view and the cache.
    auto files = std::make_shared<const AppConfig>(std::move(reload->files));
    view_->set_files(files, ConfigSource::files, "");
    status_->set(ConfigSource::files, "");
    // The files are valid and are what runs, even when the disk copy stays the older one.
    (void)commit(self, files, overlay_, /*must_persist=*/false);
    tell_config_manager(self);
    if (reload->reply)
      reload->reply(diff_devices(before ? *before : EffectiveConfig{}, *view_->effective()));
  } else if (auto* clear = std::any_cast<ClearOverlay>(&message)) {
    Overlay next = overlay_;
    std::size_t dropped = 0;
    if (clear->device) {
      dropped = next.devices.erase(*clear->device);
    } else {
      dropped = next.devices.size();
      next.devices.clear();
    }
    Status s = commit(self, files_, std::move(next), /*must_persist=*/true);
    if (s.ok()) {
      spdlog::info("config_cache event=overlay_cleared scope={} devices={}",
                   clear->device.value_or("all"), dropped);
      tell_config_manager(self);
    }
    if (clear->reply)
      clear->reply(s.ok() ? Result<std::size_t>(dropped) : Result<std::size_t>(s.take_error()));
  } else {
    unexpected(self, message);
  }
}

void ConfigCache::describe(nlohmann::json& out) const {
  std::lock_guard lock(describe_mutex_);
  for (const auto& [k, v] : shown_.items()) out[k] = v;
}

ChildSpec config_cache_child(std::shared_ptr<ConfigView> view,
                             std::shared_ptr<ConfigStatus> status) {
  ChildFactory make = [view, status](const ChildStart&) -> Result<std::shared_ptr<Behaviour>> {
    return std::shared_ptr<Behaviour>(std::make_shared<ConfigCache>(view, status));
  };
  return worker_child("config_cache", make);
}

}  // namespace edgepoll::appliance
