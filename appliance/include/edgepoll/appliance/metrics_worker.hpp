#pragma once
// The metrics worker under `deps` owns the node's metrics registry: its init
// makes the registry, registers every family (the subsystems' counters,
// supervision events, registration, build info, the node's gauges) and puts it
// on the MetricsBoard that /metrics renders; when it stops, the registry leaves
// the board with it, and /metrics says the worker is not running. Once a second
// it has a storage reader measure the outbox (depth, oldest reading, dead
// letters) for /ready, STATUS= and /metrics, and sets the node's gauges (devices
// polling / quarantined / disabled, outbox, dead letters, registration state).
// The totals come from the subsystems' plain counters, so a restarted worker's
// new registry carries on from their values.
#include <memory>
#include <mutex>

#include <prometheus/gauge.h>

#include "edgepoll/appliance/metrics.hpp"
#include "edgepoll/appliance/registration_status.hpp"
#include "edgepoll/appliance/registration.hpp"
#include "edgepoll/appliance/storage_sample.hpp"
#include "edgepoll/appliance/subsystem_metrics.hpp"
#include "edgepoll/pollers/device_activity.hpp"
#include "edgepoll/storage/reader_pool.hpp"
#include "edgepoll/supervision/process.hpp"

namespace edgepoll::appliance {

// The gauges the worker keeps current (registered once, with the parts).
struct NodeGauges {
  prometheus::Family<prometheus::Gauge>* devices = nullptr;  // {state="enabled"|"polling"|"quarantined"|"disabled"}
  prometheus::Gauge* outbox_readings = nullptr;
  prometheus::Gauge* outbox_oldest_age = nullptr;
  prometheus::Gauge* dead_letters = nullptr;
  prometheus::Family<prometheus::Gauge>* registration = nullptr;  // {state=...} 1 for the current one
  static NodeGauges register_in(Metrics& metrics);
};

// The registry of the running metrics worker, for /metrics (any thread). A
// worker killed outright (its terminate does not run) leaves its last registry
// there until its restart puts a new one.
class MetricsBoard {
 public:
  std::shared_ptr<Metrics> get() const;
  void set(std::shared_ptr<Metrics> metrics);
  // Takes `metrics` off the board if it is still the one there.
  void withdraw(const std::shared_ptr<Metrics>& metrics);

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<Metrics> metrics_;
};

struct MetricsWorkerSources {
  std::shared_ptr<MetricsBoard> board;
  SubsystemSources subsystems;
  std::shared_ptr<const SupervisionEventCounts> supervision;
  std::shared_ptr<const RegistrationCounters> registration_counters;  // null: no [registration]
  std::shared_ptr<storage::ReaderPool> readers;
  std::shared_ptr<StorageSampleBoard> storage;
  std::shared_ptr<const pollers::DeviceActivity> devices;
  double devices_intervals = 3;  // as /ready's devices check
  std::shared_ptr<const RegistrationStatus> registration;
};

class MetricsWorker final : public supervision::Behaviour {
 public:
  explicit MetricsWorker(MetricsWorkerSources sources) : sources_(std::move(sources)) {}
  supervision::InitResult init(supervision::Process& self) override;
  void handle(supervision::Process& self, supervision::Message& message) override;
  void terminate(supervision::Process& self, const supervision::ExitReason& reason) override;

 private:
  struct Tick {};
  void sample(supervision::Process& self);
  void set_gauges(supervision::TimePoint now);
  MetricsWorkerSources sources_;
  std::shared_ptr<Metrics> metrics_;  // made in init, on the board while this worker runs
  NodeGauges gauges_;                 // in metrics_
  std::uint64_t refused_ = 0;  // samples no reader took (logged once per episode)
};

}  // namespace edgepoll::appliance
