#pragma once
// /ready: is this node fit to receive work, check by check, each with the value
// it measured and its threshold from [health]. The same evaluation gives the
// ReadinessVerdict that registration and STATUS= use.
//
//   storage   the writer runs, no store error episode older than storage_error_max,
//             its queue below queue_max_share of [storage] queue_capacity
//   kafka     the oldest reading still in the outbox (not acknowledged by Kafka)
//             is younger than kafka_unacked_max; ok when [kafka] is absent
//   devices   of the enabled devices, the share that polled successfully within
//             their last devices_intervals intervals is >= devices_min_share
//   config    the running config came from the files (not the last-good cache)
//   tree      every ready_requires path runs and none of those supervisors (nor
//             the root) restarted more than max_restarts times in its window
//   registration  informational only: never changes `ready`
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "edgepoll/appliance/config_status.hpp"
#include "edgepoll/appliance/readiness_probe.hpp"
#include "edgepoll/appliance/registration_status.hpp"
#include "edgepoll/appliance/storage_sample.hpp"
#include "edgepoll/pollers/device_activity.hpp"
#include "edgepoll/storage/storage_pool.hpp"
#include "edgepoll/supervision/runtime.hpp"

namespace edgepoll::appliance {

struct ReadinessThresholds {
  supervision::Duration storage_error_max = std::chrono::seconds(30);
  double queue_max_share = 0.9;
  // An hour-long outage is noticed within a minute or two; a broker blip is not.
  supervision::Duration kafka_unacked_max = std::chrono::seconds(60);
  double devices_min_share = 0.8;
  double devices_intervals = 3;
  std::vector<std::string> ready_requires = {"root/deps", "root/edge"};
  std::size_t max_restarts = 3;
};

// What the checks look at, gathered from the subsystems' own state.
struct ReadinessMeasurements {
  struct Storage {
    bool writer_running = false;
    std::optional<supervision::Duration> unavailable_for;  // current error episode
    std::string error;
    std::uint64_t queued = 0;
    std::uint64_t queue_capacity = 0;
  } storage;
  struct Kafka {
    bool configured = false;
    bool sampled = false;  // the readers measured the outbox at least once
    std::optional<supervision::Duration> oldest_unacked;  // none: the outbox is empty
    std::int64_t outbox = 0;
  } kafka;
  pollers::DeviceActivity::Summary devices;
  ConfigStatus::Snapshot config;
  struct Tree {
    std::vector<std::string> not_running;
    std::vector<std::pair<std::string, std::size_t>> restarts;  // path, restarts in window
  } tree;
  RegistrationStatus::Snapshot registration;
};

struct ReadinessReport {
  ReadinessVerdict verdict;
  nlohmann::json body;  // {"ready":..,"checks":{..},"registration":{..}}
};

// The checks themselves: pure, so that each threshold is tested alone.
ReadinessReport evaluate_readiness(const ReadinessThresholds& t, const ReadinessMeasurements& m);

struct ReadinessSources {
  std::shared_ptr<const storage::WriterHandle> writer;
  std::uint64_t queue_capacity = 0;
  std::shared_ptr<const StorageSampleBoard> storage;
  bool kafka_configured = false;
  std::shared_ptr<const pollers::DeviceActivity> devices;
  std::shared_ptr<const ConfigStatus> config;
  std::shared_ptr<const RegistrationStatus> registration;
};

// Gathers the measurements (cheap: atomics and snapshots, never the writer's
// thread nor a query) and evaluates them. Call on the event loop or any thread.
class Readiness {
 public:
  Readiness(ReadinessThresholds thresholds, ReadinessSources sources, supervision::Runtime& runtime,
            std::string root_name = "root");
  ReadinessMeasurements measure() const;
  ReadinessReport report() const { return evaluate_readiness(thresholds_, measure()); }
  const ReadinessThresholds& thresholds() const { return thresholds_; }
  // For the registration worker and STATUS=.
  ReadinessProbe probe() const;

 private:
  ReadinessThresholds thresholds_;
  ReadinessSources sources_;
  supervision::Runtime& runtime_;
  std::string root_name_;
};

}  // namespace edgepoll::appliance
