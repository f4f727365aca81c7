#include "edgepoll/appliance/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/text_serializer.h>

namespace edgepoll::appliance {

namespace {
class SupervisionCounter final : public supervision::Observer {
 public:
  explicit SupervisionCounter(prometheus::Registry& registry)
      : family_(prometheus::BuildCounter()
                    .Name("edgepoll_supervision_events_total")
                    .Help("Supervision reports by event: child_terminated (crash or exit), "
                          "child_restarted, start_error, reached_max_restart_intensity (give-up), ...")
                    .Register(registry)) {}
  void on_report(const supervision::Report& r) override {
    // Label by event only: device ids as labels would make 10,000 series.
    family_.Add({{"event", std::string(supervision::to_string(r.kind))}}).Increment();
    if (r.kind == supervision::ReportKind::child_terminated && !r.reason.is_clean()) {
      family_.Add({{"event", "crash"}}).Increment();
    }
  }

 private:
  prometheus::Family<prometheus::Counter>& family_;
};
}  // namespace

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {}

std::shared_ptr<supervision::Observer> Metrics::supervision_observer() {
  return std::make_shared<SupervisionCounter>(*registry_);
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
