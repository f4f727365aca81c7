#include "edgepoll/appliance/readiness.hpp"

#include <fmt/format.h>

#include "edgepoll/supervision/supervisor.hpp"

namespace edgepoll::appliance {

using namespace supervision;

namespace {

double seconds(Duration d) { return std::chrono::duration<double>(d).count(); }
std::int64_t whole_seconds(Duration d) { return std::chrono::duration_cast<std::chrono::seconds>(d).count(); }

struct Checks {
  nlohmann::json json = nlohmann::json::object();
  std::vector<std::string> failing;
  void add(const char* name, bool ok, nlohmann::json values, std::string why) {
    values["ok"] = ok;
    json[name] = std::move(values);
    if (!ok) failing.push_back(std::string(name) + ": " + why);
  }
};

void storage_check(Checks& c, const ReadinessThresholds& t, const ReadinessMeasurements::Storage& s) {
  const std::uint64_t queue_max = static_cast<std::uint64_t>(t.queue_max_share * static_cast<double>(s.queue_capacity));
  nlohmann::json v = {{"writer_running", s.writer_running}, {"queued", s.queued}, {"queue_max", queue_max},
                      {"error_max_s", seconds(t.storage_error_max)}};
  if (s.unavailable_for) {
    v["unavailable_s"] = whole_seconds(*s.unavailable_for);
    v["error"] = s.error;
  }
  if (!s.writer_running) return c.add("storage", false, v, "the storage writer is not running");
  if (s.unavailable_for && *s.unavailable_for > t.storage_error_max)
    return c.add("storage", false, v,
                 fmt::format("store unavailable for {} s (max {} s): {}", whole_seconds(*s.unavailable_for),
                             seconds(t.storage_error_max), s.error));
  if (s.queued > queue_max)
    return c.add("storage", false, v, fmt::format("{} readings wait for the writer (max {})", s.queued, queue_max));
  c.add("storage", true, v, "");
}

void kafka_check(Checks& c, const ReadinessThresholds& t, const ReadinessMeasurements::Kafka& k) {
  if (!k.configured) return c.add("kafka", true, {{"configured", false}}, "");
  nlohmann::json v = {{"configured", true}, {"outbox", k.outbox}, {"max_s", seconds(t.kafka_unacked_max)}};
  if (!k.sampled) return c.add("kafka", false, v, "the outbox has not been measured yet (storage readers)");
  v["oldest_unacked_age_s"] = k.oldest_unacked ? whole_seconds(*k.oldest_unacked) : 0;
  if (k.oldest_unacked && *k.oldest_unacked > t.kafka_unacked_max)
    return c.add("kafka", false, v,
                 fmt::format("oldest unacknowledged reading {} s (max {} s), {} readings in the outbox",
                             whole_seconds(*k.oldest_unacked), seconds(t.kafka_unacked_max), k.outbox));
  c.add("kafka", true, v, "");
}

void devices_check(Checks& c, const ReadinessThresholds& t, const pollers::DeviceActivity::Summary& d) {
  nlohmann::json v = {{"polling", d.polling},         {"enabled", d.enabled},   {"quarantined", d.quarantined},
                      {"disabled", d.disabled},       {"min_share", t.devices_min_share},
                      {"intervals", t.devices_intervals}};
  // No enabled device is nothing to poll, not a failure to poll.
  const double share = d.enabled == 0 ? 1.0 : static_cast<double>(d.polling) / static_cast<double>(d.enabled);
  if (share < t.devices_min_share)
    return c.add("devices", false, v,
                 fmt::format("{} of {} enabled devices polled within {} intervals (min share {})", d.polling,
                             d.enabled, t.devices_intervals, t.devices_min_share));
  c.add("devices", true, v, "");
}

void config_check(Checks& c, const ConfigStatus::Snapshot& s) {
  nlohmann::json v = {{"source", to_string(s.source)}};
  if (!s.detail.empty()) v["detail"] = s.detail;
  if (s.source != ConfigSource::files)
    return c.add("config", false, v, "running on the last-good cache: " + s.detail);
  c.add("config", true, v, "");
}

void tree_check(Checks& c, const ReadinessThresholds& t, const ReadinessMeasurements::Tree& tree) {
  nlohmann::json v = {{"max_restarts", t.max_restarts}};
  std::vector<std::string> why;
  if (!tree.not_running.empty()) {
    v["not_running"] = tree.not_running;
    std::string list;
    for (const auto& p : tree.not_running) list += (list.empty() ? "" : ", ") + p;
    why.push_back("not running: " + list);
  }
  nlohmann::json restarts = nlohmann::json::object();
  for (const auto& [path, n] : tree.restarts) {
    restarts[path] = n;
    if (n > t.max_restarts) why.push_back(fmt::format("{} restarted {} times in its window (max {})", path, n, t.max_restarts));
  }
  v["restarts"] = restarts;
  std::string all;
  for (const auto& w : why) all += (all.empty() ? "" : "; ") + w;
  c.add("tree", why.empty(), v, all);
}

}  // namespace

ReadinessReport evaluate_readiness(const ReadinessThresholds& t, const ReadinessMeasurements& m) {
  Checks c;
  storage_check(c, t, m.storage);
  kafka_check(c, t, m.kafka);
  devices_check(c, t, m.devices);
  config_check(c, m.config);
  tree_check(c, t, m.tree);
  ReadinessReport r;
  r.verdict.ready = c.failing.empty();
  for (const auto& f : c.failing) r.verdict.reason += (r.verdict.reason.empty() ? "" : "; ") + f;
  nlohmann::json registration = {{"state", m.registration.state}};
  if (!m.registration.reason.empty()) registration["reason"] = m.registration.reason;
  if (!m.registration.key.empty()) registration["key"] = m.registration.key;
  if (m.registration.since.time_since_epoch().count() != 0)
    registration["since_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(
                                   m.registration.since.time_since_epoch()).count();
  r.body = {{"ready", r.verdict.ready}, {"checks", std::move(c.json)}, {"registration", std::move(registration)}};
  if (!r.verdict.ready) r.body["reason"] = r.verdict.reason;
  return r;
}

Readiness::Readiness(ReadinessThresholds thresholds, ReadinessSources sources, Runtime& runtime,
                     std::string root_name)
    : thresholds_(std::move(thresholds)), sources_(std::move(sources)), runtime_(runtime),
      root_name_(std::move(root_name)) {}

ReadinessMeasurements Readiness::measure() const {
  ReadinessMeasurements m;
  const TimePoint now = runtime_.clock().now();
  if (sources_.writer) {
    if (auto w = sources_.writer->get()) {
      const auto& s = w->stats();
      m.storage.writer_running = true;
      m.storage.queued = s.queued.load();
      if (const auto since = s.unavailable_since_ns.load(); since != 0) {
        // The writer stamps steady_clock; the runtime's clock is steady_clock in the daemon.
        m.storage.unavailable_for = std::max(Duration::zero(), now - TimePoint(Duration(since)));
        const auto health = w->health();
        m.storage.error = health.ok() ? "" : health.error().describe();
      }
    }
  }
  m.storage.queue_capacity = sources_.queue_capacity;
  m.kafka.configured = sources_.kafka_configured;
  if (sources_.storage) {
    const StorageSample s = sources_.storage->get();
    m.kafka.sampled = s.taken;
    m.kafka.outbox = s.readings;
    if (s.taken && s.oldest_timestamp_ms) {
      // Age at the sample, plus the time since the sample was taken.
      const auto at_sample = std::chrono::milliseconds(std::max<std::int64_t>(0, s.taken_at_wall_ms - *s.oldest_timestamp_ms));
      m.kafka.oldest_unacked = Duration(at_sample) + std::max(Duration::zero(), now - s.taken_at);
    }
  }
  if (sources_.devices) m.devices = sources_.devices->summary(now, thresholds_.devices_intervals);
  if (sources_.config) m.config = sources_.config->get();
  if (sources_.registration) m.registration = sources_.registration->get();
  const auto root = runtime_.registry().whereis(root_name_);
  auto restarts_of = [&](const std::string& path, const Pid& pid) {
    if (auto sup = std::dynamic_pointer_cast<Supervisor>(pid.get()->behaviour()))
      m.tree.restarts.emplace_back(path, sup->restarts_in_window());
  };
  if (root) restarts_of(root_name_, *root);
  for (const auto& p : thresholds_.ready_requires) {
    const Pid pid = root ? find_in_tree(*root, p) : Pid{};
    if (!pid) m.tree.not_running.push_back(p);
    else restarts_of(p, pid);
  }
  return m;
}

ReadinessProbe Readiness::probe() const {
  // NodeParts holds this Readiness for as long as the tree (and so any probe user) lives.
  return [this] { return report().verdict; };
}

}  // namespace edgepoll::appliance
