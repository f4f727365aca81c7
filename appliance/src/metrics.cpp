#include "edgepoll/appliance/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/text_serializer.h>

namespace edgepoll::appliance {

void SupervisionEventCounts::on_report(const supervision::Report& r) {
  // Label by event only: device ids as labels would make 10,000 series.
  std::lock_guard lock(mutex_);
  ++counts_[std::string(supervision::to_string(r.kind))];
  if (r.kind == supervision::ReportKind::child_terminated && !r.reason.is_clean()) ++counts_["crash"];
}

std::map<std::string, std::uint64_t> SupervisionEventCounts::snapshot() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {}

void register_supervision_metrics(Metrics& metrics, std::shared_ptr<const SupervisionEventCounts> counts) {
  auto& family = prometheus::BuildCounter()
                     .Name("edgepoll_supervision_events_total")
                     .Help("Supervision reports by event: child_terminated (crash or exit), "
                           "child_restarted, start_error, reached_max_restart_intensity (give-up), ...")
                     .Register(metrics.registry());
  // Renders are serialized: `seen` is only touched by one collector run at a time.
  auto seen = std::make_shared<std::map<std::string, std::uint64_t>>();
  metrics.on_collect([&family, counts, seen] {
    for (const auto& [event, n] : counts->snapshot()) {
      auto& last = (*seen)[event];
      family.Add({{"event", event}}).Increment(static_cast<double>(n - last));
      last = n;
    }
  });
}

void Metrics::on_collect(std::function<void()> fn) { collectors_.push_back(std::move(fn)); }

std::string Metrics::render() {
  // Two scrapes at once must not both add the same growth (collectors keep the
  // last values they saw).
  std::lock_guard lock(render_mutex_);
  for (auto& c : collectors_) c();
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace edgepoll::appliance
