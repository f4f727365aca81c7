#pragma once
// config_cache: the first worker of `edge`, the node's one source of truth for
// configuration. It holds the effective config (the files plus the Kafka
// overlay, with provenance), writes it with the overlay and the last-good files
// to <state dir>/config-cache.json atomically on every change, and restores the
// overlay when it starts, so that a change made by a command survives restarts
// and a node whose files fail validation boots with its last good config.
//
// Messages it takes (each answered through `reply`, on its strand):
//   OverlayChange  a config-changing Kafka command (the command bridge sends it)
//   ReloadFiles    new, validated files (SIGHUP): the overlay is kept
//   ClearOverlay   an operator drops the overlay of one device, or all of it
// After every change the config manager gets the new device list (ApplyDevices).
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "edgepoll/appliance/app_config.hpp"
#include "edgepoll/appliance/config_status.hpp"
#include "edgepoll/appliance/effective_config.hpp"
#include "edgepoll/supervision/child_spec.hpp"
#include "edgepoll/supervision/process.hpp"

namespace edgepoll::appliance {

// The accepted files and the effective config, readable from any thread: the
// config manager reads the device list in its init, the reloader the running
// sections. Only the config cache (and main, before the tree starts) writes it.
class ConfigView {
 public:
  ConfigView(AppConfig files, ConfigSource source, std::string detail);
  std::shared_ptr<const AppConfig> files() const;
  std::shared_ptr<const EffectiveConfig> effective() const;  // null until the cache started
  ConfigStatus::Snapshot source() const;
  void set_files(std::shared_ptr<const AppConfig> files, ConfigSource source, std::string detail);
  void set_effective(EffectiveConfig effective);

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const AppConfig> files_;
  std::shared_ptr<const EffectiveConfig> effective_;
  ConfigStatus::Snapshot source_;
};

struct OverlayChange {
  kafka::Command command;
  std::function<void(Status)> reply;
};
struct ReloadFiles {
  AppConfig files;
  std::function<void(DeviceDiff)> reply;
};
// For the operator (edgepollctl over the control socket): `device` empty clears
// the whole overlay. Answers with how many devices' overlay entries were dropped.
struct ClearOverlay {
  std::optional<std::string> device;
  std::function<void(Result<std::size_t>)> reply;
};

class ConfigCache final : public supervision::Behaviour {
 public:
  ConfigCache(std::shared_ptr<ConfigView> view, std::shared_ptr<ConfigStatus> status);
  supervision::InitResult init(supervision::Process& self) override;
  void handle(supervision::Process& self, supervision::Message& message) override;
  void describe(nlohmann::json& out) const override;

 private:
  // Builds the effective config of `files` + `overlay`, writes the cache and
  // makes it the running config. With `must_persist` (commands, operator
  // clears) nothing changes unless it is on disk; without (boot, valid files)
  // a write error is logged, counted and returned, and the config runs anyway.
  Status commit(supervision::Process& self, std::shared_ptr<const AppConfig> files, Overlay overlay,
                bool must_persist);
  void tell_config_manager(supervision::Process& self) const;

  std::shared_ptr<ConfigView> view_;
  std::shared_ptr<ConfigStatus> status_;
  std::shared_ptr<const AppConfig> files_;
  Overlay overlay_;
  std::filesystem::path cache_path_;
  std::uint64_t write_failures_ = 0;  // cache writes that failed
  mutable std::mutex describe_mutex_;
  nlohmann::json shown_;
};

supervision::ChildSpec config_cache_child(std::shared_ptr<ConfigView> view,
                                          std::shared_ptr<ConfigStatus> status);

}  // namespace edgepoll::appliance
