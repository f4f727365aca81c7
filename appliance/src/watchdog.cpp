#include "edgepoll/appliance/watchdog.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include "edgepoll/pollers/duration.hpp"

namespace edgepoll::appliance {

using namespace supervision;

namespace {
constexpr auto kStatusEvery = std::chrono::seconds(1);

std::string thousands(std::int64_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0 && digits[0] != '-') out += ',';
    out += digits[i];
  }
  return out;
}
}  // namespace

void notify_ready() { sd_notify(0, "READY=1"); }
void notify_reloading() { sd_notify(0, "RELOADING=1"); }

std::vector<std::string> stale_threads(TimePoint now, Duration within, const std::vector<Heartbeats::Seen>& beats) {
  std::vector<std::string> out;
  for (const auto& b : beats)
    if (now - b.last > within) out.push_back(b.name);
  return out;
}

std::string status_line(const ReadinessMeasurements& m, const ReadinessReport& report) {
  std::string s = fmt::format("polling {}/{} devices", m.devices.polling, m.devices.enabled);
  if (m.devices.quarantined > 0) s += fmt::format(", {} quarantined", m.devices.quarantined);
  if (m.devices.disabled > 0) s += fmt::format(", {} disabled", m.devices.disabled);
  if (m.kafka.sampled) {
    s += ", outbox " + thousands(m.kafka.outbox);
    if (m.kafka.oldest_unacked)
      s += fmt::format(" (oldest {} s)", std::chrono::duration_cast<std::chrono::seconds>(*m.kafka.oldest_unacked).count());
  }
  const auto& checks = report.body["checks"];
  if (m.kafka.configured) s += checks["kafka"]["ok"].get<bool>() ? ", kafka ok" : ", kafka down";
  if (!checks["storage"]["ok"].get<bool>()) s += ", storage failing";
  if (!report.verdict.ready) {
    std::string failing;
    for (const auto& [name, c] : checks.items())
      if (!c["ok"].get<bool>()) failing += (failing.empty() ? "" : ",") + name;
    s += ", not ready (" + failing + ")";
  }
  return s;
}

InitResult Watchdog::init(Process& self) {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) interval_ = std::chrono::microseconds(usec);
  tick_ = interval_ > Duration::zero() ? std::min<Duration>(interval_ / 2, kStatusEvery) : Duration(kStatusEvery);
  notify_ready();  // the last process of the tree: everything before it has started
  self.send(self.self(), Tick{});
  return InitResult::ok();
}

std::vector<Heartbeats::Seen> Watchdog::beats(TimePoint now) const {
  // The event loop is alive: this tick runs on it.
  std::vector<Heartbeats::Seen> all{{"event loop", now}};
  if (sources_.writer) {
    if (auto w = sources_.writer->get())
      all.push_back({"storage writer", TimePoint(Duration(w->stats().heartbeat_ns.load()))});
  }
  if (sources_.heartbeats)
    for (auto& b : sources_.heartbeats->snapshot()) all.push_back(std::move(b));
  return all;
}

void Watchdog::handle(Process& self, Message& m) {
  if (!std::any_cast<Tick>(&m)) return unexpected(self, m);
  const TimePoint now = self.clock().now();
  if (interval_ > Duration::zero()) {
    auto stale = stale_threads(now, interval_ / 2, beats(now));
    if (stale.empty()) {
      sd_notify(0, "WATCHDOG=1");
    }
    std::lock_guard lock(describe_mutex_);
    if (stale != stale_) {
      // Logged when the set changes, not every tick.
      std::string names;
      for (const auto& n : stale) names += (names.empty() ? "" : ", ") + n;
      if (stale.empty()) spdlog::info("watchdog event=petting again: every thread reports progress");
      else spdlog::error("watchdog event=not_petting: no progress for {} from: {} (systemd restarts the daemon "
                         "when this lasts)", pollers::format_duration(interval_ / 2), names);
      stale_ = std::move(stale);
    }
  }
  if (sources_.readiness) {
    const auto measured = sources_.readiness->measure();
    const auto line = status_line(measured, evaluate_readiness(sources_.readiness->thresholds(), measured));
    if (line != last_status_) {
      sd_notify(0, ("STATUS=" + line).c_str());
      last_status_ = line;
    }
  }
  self.send_after(tick_, Tick{});
}

void Watchdog::terminate(Process&, const ExitReason&) { sd_notify(0, "STOPPING=1"); }

void Watchdog::describe(nlohmann::json& out) const {
  std::lock_guard lock(describe_mutex_);
  out["watchdog_usec"] = std::chrono::duration_cast<std::chrono::microseconds>(interval_).count();
  out["stalled_threads"] = stale_;
}

}  // namespace edgepoll::appliance
