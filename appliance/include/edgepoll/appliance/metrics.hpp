#pragma once
// The node's metrics: a Prometheus registry served at /metrics, owned by the
// metrics worker under `deps` (metrics_worker.hpp). Subsystems keep plain
// counters of their own (no Prometheus in their libraries); the appliance turns
// them into families here. Supervision reports are counted as they happen, into
// plain counters too, so that a restarted metrics worker's new registry starts
// from the counts so far.
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <prometheus/registry.h>

#include "edgepoll/supervision/observer.hpp"

namespace edgepoll::appliance {

// Every supervision report by event (crash, restart, give-up, ...), counted from
// the moment the runtime has it as an observer (main adds it before the tree).
class SupervisionEventCounts final : public supervision::Observer {
 public:
  void on_report(const supervision::Report& report) override;
  std::map<std::string, std::uint64_t> snapshot() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::uint64_t> counts_;  // event -> reports
};

class Metrics {
 public:
  Metrics();
  prometheus::Registry& registry() { return *registry_; }
  // Runs before each render, to copy subsystem counters and gauges in. Renders
  // are serialized, so a collector may keep state (the last values it saw).
  void on_collect(std::function<void()> fn);
  // Prometheus text exposition format.
  std::string render();

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::mutex render_mutex_;
  std::vector<std::function<void()>> collectors_;
};

// edgepoll_supervision_events_total{event} from `counts`.
void register_supervision_metrics(Metrics& metrics, std::shared_ptr<const SupervisionEventCounts> counts);

}  // namespace edgepoll::appliance
