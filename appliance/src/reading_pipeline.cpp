#include "edgepoll/appliance/reading_pipeline.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace edgepoll::appliance {

std::string encode_readings(const pollers::DeviceReadings& r) {
  nlohmann::json values = nlohmann::json::array();
  for (const auto& reading : r.readings) {
    nlohmann::json v = {{"metric", reading.metric}};
    std::visit([&v](const auto& x) { v["value"] = x; }, reading.value);
    if (!reading.unit.empty()) v["unit"] = reading.unit;
    for (const auto& [tag, value] : reading.tags) v["tags"][tag] = value;
    values.push_back(std::move(v));
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(r.taken_at.time_since_epoch()).count();
  // Device text was validated as UTF-8 by the decoder; replace anything else anyway.
  return nlohmann::json{{"device", r.device_id}, {"ts", ms}, {"readings", std::move(values)}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

ReadingPipeline::ReadingPipeline(std::shared_ptr<storage::WriterHandle> writer, std::size_t buffer_capacity)
    : writer_(std::move(writer)), capacity_(buffer_capacity) {}

void ReadingPipeline::submit(pollers::DeviceReadings readings) {
  stats_.submitted++;
  storage::Reading row{readings.device_id,
                       std::chrono::duration_cast<std::chrono::milliseconds>(readings.taken_at.time_since_epoch()).count(),
                       encode_readings(readings)};
  auto writer = writer_->get();
  std::deque<storage::Reading> backlog;
  {
    std::lock_guard lock(mutex_);
    if (!writer) {
      if (waiting_.size() >= capacity_) {
        drop(row.device_id);
        return;
      }
      waiting_.push_back(std::move(row));
      stats_.buffered = waiting_.size();
      return;
    }
    backlog.swap(waiting_);  // the writer is back: what waited goes first
    stats_.buffered = 0;
    if (!drop_episode_.empty()) {
      std::string devices;
      std::uint64_t total = 0;
      for (const auto& [id, n] : drop_episode_) {
        devices += (devices.empty() ? "" : ",") + id;
        total += n;
      }
      spdlog::warn("pipeline event=drop_episode_ended dropped={} devices={}", total, devices);
      drop_episode_.clear();
    }
  }
  for (auto& waiting : backlog) forward(*writer, std::move(waiting));
  forward(*writer, std::move(row));
}

void ReadingPipeline::forward(storage::BatchWriter& writer, storage::Reading reading) {
  const std::string device = reading.device_id;
  auto stats = stats_holder_;
  auto accepted = writer.submit(std::move(reading), [stats](Result<storage::Ack> ack) {
    (ack.ok() ? stats->stored : stats->store_errors)++;
  });
  if (!accepted.ok()) stats_.dropped++;  // the writer counted and logged it (queue full)
}

void ReadingPipeline::drop(const std::string& device_id) {
  stats_.dropped++;
  if (drop_episode_.empty()) {
    spdlog::error("pipeline event=dropping reason=\"no storage writer and {} readings already waiting\" first_device={}",
                  capacity_, device_id);
  }
  drop_episode_[device_id]++;
}

}  // namespace edgepoll::appliance
