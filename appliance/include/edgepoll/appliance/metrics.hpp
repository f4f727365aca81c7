#pragma once
// The node's metrics: a Prometheus registry served at /metrics. Subsystems keep
// plain counters of their own (no Prometheus in their libraries); the appliance
// turns them into families here. Supervision reports are counted as they happen.
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <prometheus/registry.h>

#include "edgepoll/supervision/observer.hpp"

namespace edgepoll::appliance {

class Metrics {
 public:
  Metrics();
  prometheus::Registry& registry() { return *registry_; }
  // Counts every supervision report by event (crash, restart, give-up, ...).
  std::shared_ptr<supervision::Observer> supervision_observer();
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

}  // namespace edgepoll::appliance
