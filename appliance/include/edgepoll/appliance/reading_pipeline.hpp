#pragma once
// Readings from the pollers to the store. One outbox row per poll (a device's
// readings encoded as JSON). When no writer is up (storage restarting) readings
// wait in a bounded buffer; past its bound they are counted as dropped and
// logged once per episode with the devices affected: memory never grows
// without bound, and an operator can see exactly what was lost.
#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>

#include "edgepoll/pollers/poller_context.hpp"
#include "edgepoll/storage/storage_pool.hpp"

namespace edgepoll::appliance {

struct PipelineStats {
  std::atomic<std::uint64_t> submitted{0};
  std::atomic<std::uint64_t> buffered{0};  // waiting for a writer right now
  std::atomic<std::uint64_t> dropped{0};
  std::atomic<std::uint64_t> stored{0};    // acknowledged by the writer after COMMIT
  std::atomic<std::uint64_t> store_errors{0};
};

// {"device":"d1","ts":1700000000000,"readings":[{"metric":"temp","value":21.5,"unit":"degC"}]}
std::string encode_readings(const pollers::DeviceReadings& readings);

class ReadingPipeline final : public pollers::ReadingSink {
 public:
  ReadingPipeline(std::shared_ptr<storage::WriterHandle> writer, std::size_t buffer_capacity = 10000);
  void submit(pollers::DeviceReadings readings) override;
  const PipelineStats& stats() const { return stats_; }

 private:
  void forward(storage::BatchWriter& writer, storage::Reading reading);
  void drop(const std::string& device_id);

  std::shared_ptr<storage::WriterHandle> writer_;
  std::size_t capacity_;
  std::shared_ptr<PipelineStats> stats_holder_ = std::make_shared<PipelineStats>();
  PipelineStats& stats_ = *stats_holder_;
  std::mutex mutex_;
  std::deque<storage::Reading> waiting_;
  std::map<std::string, std::uint64_t> drop_episode_;
};

}  // namespace edgepoll::appliance
