#pragma once
// The config manager's quarantines in the store's device_state table, through
// the storage writer's operations (the writer thread is the store's one owner).
// Writes are fire-and-forget from the config manager's strand: it never waits
// on disk. A write that fails (writer restarting, disk full) is logged and
// counted; the quarantine itself still holds in memory, only a restart of the
// daemon in that window would forget it.
#include <atomic>
#include <cstdint>
#include <memory>

#include "edgepoll/pollers/config_manager.hpp"
#include "edgepoll/storage/storage_pool.hpp"

namespace edgepoll::appliance {

class StoreQuarantineLog final : public pollers::QuarantineLog {
 public:
  explicit StoreQuarantineLog(std::shared_ptr<storage::WriterHandle> writer) : writer_(std::move(writer)) {}
  void quarantined(const pollers::RecordedQuarantine& quarantine) override;
  void released(const std::string& device_id) override;
  void restore(Restored done) override;

  struct Stats {
    std::atomic<std::uint64_t> write_failures{0};  // quarantines or releases that did not reach the store
  };
  const Stats& stats() const { return stats_; }
  std::uint64_t write_failures() const { return stats_.write_failures.load(); }

 private:
  void failed(const std::string& what, const Error& error);

  std::shared_ptr<storage::WriterHandle> writer_;
  Stats stats_;
};

}  // namespace edgepoll::appliance
