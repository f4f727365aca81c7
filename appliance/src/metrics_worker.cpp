#include "edgepoll/appliance/metrics_worker.hpp"

#include <spdlog/spdlog.h>

#include "edgepoll/appliance/build_info.hpp"
#include "edgepoll/appliance/registration_metrics.hpp"

namespace edgepoll::appliance {

using namespace supervision;

namespace {
constexpr auto kSampleEvery = std::chrono::seconds(1);
constexpr const char* kRegistrationStates[] = {"disabled", "registered", "deregistered", "unreachable"};
}  // namespace

NodeGauges NodeGauges::register_in(Metrics& metrics) {
  auto& r = metrics.registry();
  auto gauge = [&](const char* name, const char* help) -> prometheus::Gauge& {
    return prometheus::BuildGauge().Name(name).Help(help).Register(r).Add({});
  };
  NodeGauges g;
  g.devices = &prometheus::BuildGauge()
                   .Name("edgepoll_devices")
                   .Help("Devices by state: enabled (configured, not disabled), polling (a good poll within "
                         "[health] devices_intervals intervals), quarantined, disabled (by an operator).")
                   .Register(r);
  g.outbox_readings = &gauge("edgepoll_outbox_readings", "Readings in the outbox (not yet acknowledged by Kafka).");
  g.outbox_oldest_age = &gauge("edgepoll_outbox_oldest_age_seconds",
                               "Age of the oldest reading in the outbox; 0 when it is empty.");
  g.dead_letters = &gauge("edgepoll_dead_letters", "Rows in the dead_letters table (readings and commands).");
  g.registration = &prometheus::BuildGauge()
                        .Name("edgepoll_registration_state")
                        .Help("1 for the registration worker's current state in service discovery "
                              "(disabled, registered, deregistered, unreachable).")
                        .Register(r);
  return g;
}

std::shared_ptr<Metrics> MetricsBoard::get() const {
  std::lock_guard lock(mutex_);
  return metrics_;
}

void MetricsBoard::set(std::shared_ptr<Metrics> metrics) {
  std::lock_guard lock(mutex_);
  metrics_ = std::move(metrics);
}

void MetricsBoard::withdraw(const std::shared_ptr<Metrics>& metrics) {
  std::lock_guard lock(mutex_);
  if (metrics_ == metrics) metrics_.reset();
}

InitResult MetricsWorker::init(Process& self) {
  metrics_ = std::make_shared<Metrics>();
  register_build_info(*metrics_);
  register_subsystem_metrics(*metrics_, sources_.subsystems);
  if (sources_.supervision) register_supervision_metrics(*metrics_, sources_.supervision);
  if (sources_.registration_counters) register_registration_metrics(*metrics_, sources_.registration_counters);
  gauges_ = NodeGauges::register_in(*metrics_);
  if (sources_.board) sources_.board->set(metrics_);
  self.send(self.self(), Tick{});
  return InitResult::ok();
}

void MetricsWorker::terminate(Process&, const ExitReason&) {
  if (sources_.board) sources_.board->withdraw(metrics_);
}

void MetricsWorker::handle(Process& self, Message& m) {
  if (!std::any_cast<Tick>(&m)) return unexpected(self, m);
  set_gauges(self.clock().now());
  sample(self);
  self.send_after(kSampleEvery, Tick{});
}

void MetricsWorker::sample(Process& self) {
  if (!sources_.readers) return;
  Clock& clock = self.clock();
  auto board = sources_.storage;
  auto gauges = gauges_;
  // The reader may answer after this worker stopped: `metrics` keeps the gauges' registry alive until then.
  const bool taken = sources_.readers->submit([board, gauges, metrics = metrics_, &clock](storage::Reader* reader) {
    if (!reader) return;  // the reader stopped first; the next tick asks again
    auto depth = reader->outbox_depth();
    auto dead = reader->dead_letter_count();
    if (!depth.ok() || !dead.ok()) {
      // A read failing is the store failing; the writer's episode reports it. Keep the last sample.
      spdlog::debug("metrics: storage sample failed: {}", depth.ok() ? dead.error().describe() : depth.error().describe());
      return;
    }
    StorageSample s;
    s.taken = true;
    s.readings = depth->readings;
    s.oldest_timestamp_ms = depth->oldest_timestamp_ms;
    s.database_bytes = depth->database_bytes;
    s.dead_letters = dead.value();
    s.taken_at = clock.now();
    s.taken_at_wall_ms = wall_clock_ms();
    if (gauges.outbox_readings) {
      gauges.outbox_readings->Set(static_cast<double>(s.readings));
      gauges.outbox_oldest_age->Set(
          s.oldest_timestamp_ms ? std::max<double>(0, static_cast<double>(s.taken_at_wall_ms - *s.oldest_timestamp_ms) / 1000.0) : 0);
      gauges.dead_letters->Set(static_cast<double>(s.dead_letters));
    }
    board->set(std::move(s));
  });
  if (taken) {
    if (refused_ > 0) spdlog::info("metrics: storage readers answer again ({} samples were skipped)", refused_);
    refused_ = 0;
  } else if (refused_++ == 0) {
    spdlog::warn("metrics: no storage reader takes the outbox sample (restarting or busy); /ready keeps the last one");
  }
}

void MetricsWorker::set_gauges(TimePoint now) {
  auto& g = gauges_;
  if (g.devices && sources_.devices) {
    const auto d = sources_.devices->summary(now, sources_.devices_intervals);
    g.devices->Add({{"state", "enabled"}}).Set(static_cast<double>(d.enabled));
    g.devices->Add({{"state", "polling"}}).Set(static_cast<double>(d.polling));
    g.devices->Add({{"state", "quarantined"}}).Set(static_cast<double>(d.quarantined));
    g.devices->Add({{"state", "disabled"}}).Set(static_cast<double>(d.disabled));
  }
  if (g.registration && sources_.registration) {
    const auto state = sources_.registration->get().state;
    for (const char* s : kRegistrationStates) g.registration->Add({{"state", s}}).Set(state == s ? 1 : 0);
  }
}

}  // namespace edgepoll::appliance
