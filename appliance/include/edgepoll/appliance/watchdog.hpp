#pragma once
// systemd's notify protocol (sd_notify; nothing is sent without NOTIFY_SOCKET):
//   READY=1      once the whole tree has started (the watchdog is the tree's last process)
//   WATCHDOG=1   only while the event loop, the storage writer thread and every
//                Kafka loop thread have each reported progress within half of
//                WATCHDOG_USEC, so a wedged thread gets the daemon restarted
//   STATUS=...   a one-line summary, sent whenever it changes
//   RELOADING=1  around a reload (notify_reloading() then notify_ready())
//   STOPPING=1   when the tree shuts down
#include <memory>
#include <string>
#include <vector>

#include "edgepoll/supervision/heartbeats.hpp"
#include "edgepoll/appliance/readiness.hpp"
#include "edgepoll/appliance/storage_sample.hpp"
#include "edgepoll/pollers/device_activity.hpp"
#include "edgepoll/storage/storage_pool.hpp"
#include "edgepoll/supervision/process.hpp"

namespace edgepoll::appliance {

void notify_ready();
// A reload begins: systemd shows "reloading" until the next notify_ready().
void notify_reloading();

// Threads whose last heartbeat is older than `within` (names), for the watchdog.
std::vector<std::string> stale_threads(supervision::TimePoint now, supervision::Duration within,
                                       const std::vector<supervision::Heartbeats::Seen>& beats);

// "polling 188/190 devices, 2 quarantined, outbox 12,034 (oldest 94 s), kafka down"
std::string status_line(const ReadinessMeasurements& m, const ReadinessReport& report);

struct WatchdogSources {
  std::shared_ptr<const supervision::Heartbeats> heartbeats;
  std::shared_ptr<const storage::WriterHandle> writer;
  std::shared_ptr<const Readiness> readiness;
};

class Watchdog final : public supervision::Behaviour {
 public:
  explicit Watchdog(WatchdogSources sources) : sources_(std::move(sources)) {}
  supervision::InitResult init(supervision::Process& self) override;
  void handle(supervision::Process& self, supervision::Message& message) override;
  void terminate(supervision::Process& self, const supervision::ExitReason& reason) override;
  void describe(nlohmann::json& out) const override;

 private:
  struct Tick {};
  std::vector<supervision::Heartbeats::Seen> beats(supervision::TimePoint now) const;

  WatchdogSources sources_;
  supervision::Duration interval_{};  // WATCHDOG_USEC; zero when systemd does not watch
  supervision::Duration tick_{};
  std::string last_status_;
  mutable std::mutex describe_mutex_;
  std::vector<std::string> stale_;  // last tick's stalled threads
};

}  // namespace edgepoll::appliance
