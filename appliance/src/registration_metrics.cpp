#include "edgepoll/appliance/registration_metrics.hpp"

#include <prometheus/counter.h>

#include <array>

namespace edgepoll::appliance {

void register_registration_metrics(Metrics& metrics,
                                   std::shared_ptr<const RegistrationCounters> counters) {
  using Field = const std::atomic<std::uint64_t> RegistrationCounters::*;
  auto& changes = prometheus::BuildCounter()
                      .Name("edgepoll_registration_changes_total")
                      .Help(
                          "Times the registration worker entered a state (registered, "
                          "deregistered, unreachable)")
                      .Register(metrics.registry());
  auto& errors =
      prometheus::BuildCounter()
          .Name("edgepoll_registration_etcd_errors_total")
          .Help(
              "etcd requests of the registration worker that failed (each is retried with backoff)")
          .Register(metrics.registry());
  struct Entry {
    Field field;
    prometheus::Counter* counter;
    std::uint64_t last = 0;
  };
  // The counters live as long as the node (they span worker restarts), so each
  // render adds what they grew by since the previous one.
  auto entries = std::make_shared<std::array<Entry, 4>>(std::array<Entry, 4>{{
      {&RegistrationCounters::registered, &changes.Add({{"state", "registered"}})},
      {&RegistrationCounters::deregistered, &changes.Add({{"state", "deregistered"}})},
      {&RegistrationCounters::unreachable, &changes.Add({{"state", "unreachable"}})},
      {&RegistrationCounters::etcd_errors, &errors.Add({})},
  }});
  metrics.on_collect([entries, counters] {
    for (auto& e : *entries) {
      const std::uint64_t now = ((*counters).*e.field).load(std::memory_order_relaxed);
      e.counter->Increment(static_cast<double>(now - e.last));
      e.last = now;
    }
  });
}

}  // namespace edgepoll::appliance
