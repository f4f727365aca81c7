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

// Where quarantines are recorded (storage's device_state in the appliance).
class QuarantineLog {
 public:
  virtual ~QuarantineLog() = default;
  virtual void quarantined(const std::string& device_id, std::chrono::system_clock::time_point until,
                           const std::string& reason) = 0;
  virtual void released(const std::string& device_id) = 0;
};

struct ConfigManagerOptions {
  Duration backoff_base = std::chrono::seconds(10);
  Duration backoff_cap = std::chrono::hours(1);
  // A device that ran this long before dying starts its backoff from the base again.
  Duration stable_after = std::chrono::minutes(10);
  std::uint64_t seed = 0;  // 0: random
};

// Messages the config manager takes (from SIGHUP reloads and Kafka commands).
struct ApplyDevices {  // the whole device list: diffed, only changes are acted on
  std::vector<DeviceConfig> devices;
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

  supervision::Pid pollers(supervision::Process& self) const;
  void start(supervision::Process& self, Device& device);
  void stop(supervision::Process& self, Device& device);
  // Adds or replaces a device; a disabled one is kept but not started.
  void upsert(supervision::Process& self, const DeviceConfig& config, bool disabled = false);
  void apply(supervision::Process& self, const ApplyDevices& wanted);
  void adopt(supervision::Process& self, const ApplyDevices& wanted);
  void remove(supervision::Process& self, const std::string& id);
  void quarantine(supervision::Process& self, Device& device, const std::string& reason);
  Status command(supervision::Process& self, const DeviceCommand& command);
  void refresh_counts();  // what describe() shows

  CurrentDevices current_;
  std::shared_ptr<StartedDevices> started_;
  PollerContext context_;
  ConfigManagerOptions options_;
  QuarantineLog* quarantine_log_;
  std::map<std::string, Device> devices_;
  std::uint64_t next_generation_ = 1;
  std::uint64_t seed_;
  mutable std::mutex describe_mutex_;
  std::size_t running_ = 0, quarantined_ = 0;
};

}  // namespace edgepoll::pollers
