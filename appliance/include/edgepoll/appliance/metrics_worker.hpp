#pragma once
// The metrics worker under `deps`: once a second it has a storage reader
// measure the outbox (depth, oldest reading, dead letters) for /ready, STATUS=
// and /metrics, and sets the node's gauges (devices polling / quarantined /
// disabled, outbox, dead letters, registration state). The registry itself is
// NodeParts::metrics, which the subsystems' collectors report into at each scrape.
#include <memory>

#include <prometheus/gauge.h>

#include "edgepoll/appliance/metrics.hpp"
#include "edgepoll/appliance/registration_status.hpp"
#include "edgepoll/appliance/storage_sample.hpp"
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

struct MetricsWorkerSources {
  std::shared_ptr<storage::ReaderPool> readers;
  std::shared_ptr<StorageSampleBoard> storage;
  std::shared_ptr<const pollers::DeviceActivity> devices;
  double devices_intervals = 3;  // as /ready's devices check
  std::shared_ptr<const RegistrationStatus> registration;
  NodeGauges gauges;
};

class MetricsWorker final : public supervision::Behaviour {
 public:
  explicit MetricsWorker(MetricsWorkerSources sources) : sources_(std::move(sources)) {}
  supervision::InitResult init(supervision::Process& self) override;
  void handle(supervision::Process& self, supervision::Message& message) override;

 private:
  struct Tick {};
  void sample(supervision::Process& self);
  void set_gauges(supervision::TimePoint now);
  MetricsWorkerSources sources_;
  std::uint64_t refused_ = 0;  // samples no reader took (logged once per episode)
};

}  // namespace edgepoll::appliance
