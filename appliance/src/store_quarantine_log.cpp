#include "edgepoll/appliance/store_quarantine_log.hpp"

#include <spdlog/spdlog.h>

namespace edgepoll::appliance {

namespace {
using std::chrono::milliseconds;
using std::chrono::system_clock;

Error no_writer() { return make_error("storage.unavailable", "the storage writer is not running", true); }
}  // namespace

void StoreQuarantineLog::failed(const std::string& what, const Error& error) {
  stats_.write_failures++;
  spdlog::error("quarantine_log event=write_failed what=\"{}\" error={}", what, error.describe());
}

void StoreQuarantineLog::quarantined(const pollers::RecordedQuarantine& q) {
  const std::string what = "quarantine of device " + q.device_id;
  auto w = writer_->get();
  if (!w) return failed(what, no_writer());
  storage::Quarantine row{q.device_id, static_cast<std::int64_t>(q.attempt),
                          std::chrono::duration_cast<milliseconds>(q.until.time_since_epoch()).count(), q.reason};
  w->record_quarantine(std::move(row), [this, what](Result<Ok> r) {
    if (!r.ok()) failed(what, r.error());
  });
}

void StoreQuarantineLog::released(const std::string& device_id) {
  const std::string what = "release of device " + device_id;
  auto w = writer_->get();
  if (!w) return failed(what, no_writer());
  w->clear_quarantine(device_id, [this, what](Result<Ok> r) {
    if (!r.ok()) failed(what, r.error());
  });
}

void StoreQuarantineLog::restore(Restored done) {
  auto w = writer_->get();
  if (!w) return done(no_writer());
  w->quarantines([done = std::move(done)](Result<std::vector<storage::Quarantine>> rows) {
    if (!rows.ok()) return done(rows.take_error());
    std::vector<pollers::RecordedQuarantine> out;
    out.reserve(rows->size());
    for (auto& r : rows.value()) {
      out.push_back({std::move(r.device_id), static_cast<unsigned>(std::max<std::int64_t>(0, r.attempt)),
                     system_clock::time_point(milliseconds(r.until_ms)), std::move(r.reason)});
    }
    done(std::move(out));
  });
}

}  // namespace edgepoll::appliance
