#pragma once
// The config manager: the one place with "smart" retry policy (supervisors stay
// simple). It keeps the pollers subtree in line with the effective config:
// starts every configured device (adopting the subtrees a previous instance left
// running), restarts a dead device after full-jitter
// exponential backoff (10 s -> 1 h by default; no thundering herd when many die
// at once), records the quarantine, and adds / removes / replaces single devices
// on config change without touching the others.
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "edgepoll/pollers/device_config.hpp"
#include "edgepoll/pollers/poller_context.hpp"
#include "edgepoll/supervision/backoff.hpp"
#include "edgepoll/supervision/process.hpp"

namespace edgepoll::pollers {

// A quarantine as it was recorded (wall clock: it must outlive the daemon).
struct RecordedQuarantine {
  std::string device_id;
  unsigned attempt = 0;  // of the config manager's backoff, 1 for the first
  std::chrono::system_clock::time_point until;
  std::string reason;
};

// Where quarantines are recorded (storage's device_state in the appliance), so
// that after a restart of the daemon (a crash loop, a power cut) a quarantined
// device keeps waiting for its time instead of every bad device being retried
// at once.
class QuarantineLog {
 public:
  using Restored = std::function<void(Result<std::vector<RecordedQuarantine>>)>;
  virtual ~QuarantineLog() = default;
  virtual void quarantined(const RecordedQuarantine& quarantine) = 0;
  virtual void released(const std::string& device_id) = 0;
  // The quarantines recorded so far; `done` is called exactly once, on any thread.
  virtual void restore(Restored done) = 0;
};

struct ConfigManagerOptions {
  Duration backoff_base = std::chrono::seconds(10);
  Duration backoff_cap = std::chrono::hours(1);
  // A device that ran this long before dying starts its backoff from the base again.
  Duration stable_after = std::chrono::minutes(10);
  std::uint64_t seed = 0;  // 0: random
};

// Messages the config manager takes (from SIGHUP reloads and Kafka commands).
// The configs are shared, not copied: the effective config, this list and the
// manager's running devices hold one DeviceConfig per device (10,000 devices).
struct ApplyDevices {  // the whole device list: diffed, only changes are acted on
  std::vector<std::shared_ptr<const DeviceConfig>> devices;
  std::set<std::string> disabled;  // ids of `devices` an operator disabled: kept, not started
};

// The effective device list, asked for by every fresh config manager in init
// (the config cache's, in the appliance).
using CurrentDevices = std::function<ApplyDevices()>;

// What the config managers of one pollers subtree started, kept outside any one
// of them: a fresh instance after a crash adopts the device subtrees still
// running under `pollers` and needs the config each was started with (and which
// ones sat in quarantine, until when) to reconcile them with the effective config.
class StartedDevices {
 public:
  struct Entry {
    std::shared_ptr<const DeviceConfig> config;
    std::optional<supervision::TimePoint> quarantined_until;
  };
  void started(const std::shared_ptr<const DeviceConfig>& config);
  void quarantined(const std::string& id, supervision::TimePoint until);
  void forget(const std::string& id);
  std::optional<Entry> find(const std::string& id) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;
};
struct UpsertDevice {  // add, or replace when the config differs
  DeviceConfig device;
};
struct RemoveDevice {
  std::string id;
};
// One operator command (from Kafka): answered through `reply` (on the config
// manager's strand) with ok, or an error such as "command.unknown_device".
struct DeviceCommand {
  enum class Kind { set_interval, enable, disable, upsert, remove, poll_now };
  Kind kind = Kind::poll_now;
  std::string device;
  Duration interval{};                  // set_interval
  std::optional<DeviceConfig> config;   // upsert
  std::function<void(Status)> reply;
};

class ConfigManager final : public supervision::Behaviour {
 public:
  ConfigManager(CurrentDevices current, std::shared_ptr<StartedDevices> started, PollerContext context,
                ConfigManagerOptions options = {}, QuarantineLog* quarantine = nullptr);
  supervision::InitResult init(supervision::Process& self) override;
  void handle(supervision::Process& self, supervision::Message& message) override;
  void describe(nlohmann::json& out) const override;

 private:
  struct Device {
    std::shared_ptr<const DeviceConfig> config;
    std::uint64_t generation = 0;
    supervision::Pid pid;
    supervision::MonitorRef monitor = 0;
    supervision::TimePoint started_at{};
    std::unique_ptr<supervision::FullJitterBackoff> backoff;
    bool quarantined = false;
    bool disabled = false;  // by an operator: not started, not retried
  };
  struct Started {
    std::string id;
    std::uint64_t generation;
    Result<supervision::Pid> pid;
  };
  struct Retry {
    std::string id;
    std::uint64_t generation;
  };
  struct QuarantinesRestored {
    Result<std::vector<RecordedQuarantine>> recorded;
  };
  struct RestoreTimedOut {};

  supervision::Pid pollers(supervision::Process& self) const;
  void start(supervision::Process& self, Device& device);
  void stop(supervision::Process& self, Device& device);
  // Adds or replaces a device; a disabled one is kept but not started.
  void upsert(supervision::Process& self, const std::shared_ptr<const DeviceConfig>& config,
              bool disabled = false);
  void upsert(supervision::Process& self, const DeviceConfig& config) {
    upsert(self, std::make_shared<const DeviceConfig>(config));
  }
  void apply(supervision::Process& self, const ApplyDevices& wanted);
  // A fresh instance's start: adopts, replaces, stops and starts (see the .cpp);
  // `recorded` are the quarantine log's entries.
  void adopt(supervision::Process& self, const ApplyDevices& wanted, const std::vector<RecordedQuarantine>& recorded);
  void remove(supervision::Process& self, const std::string& id);
  void quarantine(supervision::Process& self, Device& device, const std::string& reason);
  // The quarantine log answered (or timed out): adopt, then the deferred messages.
  void finish_restore(supervision::Process& self, const std::vector<RecordedQuarantine>& recorded);
  Status command(supervision::Process& self, const DeviceCommand& command);
  // Counts for describe().
  void publish();
  // The device's state for PollerContext::activity.
  void show(const Device& device);

  CurrentDevices current_;
  std::shared_ptr<StartedDevices> started_;
  // Until the recorded quarantines are read, no device starts and every other
  // message waits here (replayed in order afterwards).
  bool restoring_ = false;
  std::vector<supervision::Message> deferred_;
  PollerContext context_;
  ConfigManagerOptions options_;
  QuarantineLog* quarantine_log_;
  std::map<std::string, Device> devices_;
  std::uint64_t next_generation_ = 1;
  std::uint64_t seed_;
  mutable std::mutex describe_mutex_;
  std::size_t running_ = 0, quarantined_ = 0;
  std::vector<std::string> quarantined_ids_, disabled_ids_;
};

}  // namespace edgepoll::pollers
