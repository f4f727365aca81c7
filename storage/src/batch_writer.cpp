#include "edgepoll/supervision/clock.hpp"
#include "edgepoll/storage/batch_writer.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "dead_letters.hpp"
#include "edgepoll/supervision/backoff.hpp"

namespace edgepoll::storage {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;
constexpr auto kRetentionEvery = std::chrono::seconds(1);
// Retry of an unavailable store: 10 ms up to 1 s, full jitter.
constexpr auto kRetryBase = std::chrono::milliseconds(10);
constexpr auto kRetryCap = std::chrono::seconds(1);


// A callback that throws must not take the writer thread (and every pending
// reading) down with it: it is the caller's bug, logged here.
template <class F, class A>
void deliver(F& f, A&& arg) {
  if (!f) return;
  try {
    f(std::forward<A>(arg));
  } catch (const std::exception& e) {
    spdlog::error("storage: a writer callback threw: {}", e.what());
  } catch (...) {
    spdlog::error("storage: a writer callback threw a non-exception");
  }
}

std::string device_list(const std::map<std::string, std::uint64_t>& counts) {
  std::string s;
  for (const auto& [device, n] : counts) s += fmt::format("{}{} ({})", s.empty() ? "" : ", ", device, n);
  return s;
}

}  // namespace

BatchWriter::BatchWriter(Database db, const StoreConfig& config, std::shared_ptr<const supervision::FaultSwitch> faults,
                         std::function<void()> on_commit)
    : config_(config),
      faults_(std::move(faults)),
      on_commit_(std::move(on_commit)),
      db_(std::move(db)),
      outbox_(db_),
      thread_([this] { loop(); }) {}

BatchWriter::~BatchWriter() { stop(); }

void BatchWriter::wedge_for_test(bool wedged) {
  {
    std::lock_guard lock(mutex_);
    wedged_ = wedged;
  }
  wake_.notify_one();
}

void BatchWriter::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    wedged_ = false;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

Status BatchWriter::submit(Reading reading, AckCallback on_stored) {
  bool notify = false;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      ++stats_.dropped;
      return make_error("storage.stopped",
                        fmt::format("{}: the writer is stopped; reading of device {} not stored",
                                    config_.path, reading.device_id),
                        true, "the storage pool restarts the writer");
    }
    if (queue_.size() >= config_.queue_capacity) {
      ++stats_.dropped;
      if (drop_episode_.empty())
        spdlog::warn("storage: {}: {} readings wait for the store ({}); dropping new readings "
                     "from now on, first of device {}; a summary follows when it recovers",
                     config_.path, queue_.size(),
                     unavailable_ ? unavailable_->describe() : "writer behind",
                     reading.device_id);
      ++drop_episode_[reading.device_id];
      return make_error("storage.queue_full",
                        fmt::format("{}: {} readings already wait for the store; reading of "
                                    "device {} dropped",
                                    config_.path, queue_.size(), reading.device_id),
                        true, unavailable_ ? unavailable_->hint : "");
    }
    queue_.push_back(Pending{std::move(reading), std::move(on_stored),
                             std::chrono::steady_clock::now()});
    ++stats_.submitted;
    stats_.queued = queue_.size();
    notify = queue_.size() == 1 || queue_.size() == config_.batch_max_rows;
  }
  if (notify) wake_.notify_one();
  return ok_status();
}

Status BatchWriter::health() const {
  std::lock_guard lock(mutex_);
  if (unavailable_) return *unavailable_;
  return ok_status();
}

void BatchWriter::post(Task task) {
  {
    std::lock_guard lock(mutex_);
    if (!finished_) {
      tasks_.push_back(std::move(task));
      wake_.notify_one();
      return;
    }
  }
  task(false);  // the thread is gone: answer "stopped" on the caller's thread
}

template <class T, class Op>
void BatchWriter::run_op(Op op, Callback<T> done) {
  post([this, op = std::move(op), done = std::move(done)](bool run) mutable {
    if (!run) {
      deliver(done, Result<T>(make_error("storage.stopped",
                                         config_.path + ": the writer is stopped", true,
                                         "the storage pool restarts the writer")));
      return;
    }
    Result<T> r = op(outbox_);
    if (!r) {
      const auto& code = r.error().code;
      // An operator naming a missing or wrong dead letter is no store error.
      if (code != "storage.not_found" && code.rfind("dlq.", 0) != 0) count_error(r.error());
    }
    deliver(done, std::move(r));
  });
}

void BatchWriter::fetch_oldest_batch(std::size_t n, Callback<std::vector<OutboxRecord>> done) {
  run_op<std::vector<OutboxRecord>>([n](Outbox& o) { return o.fetch_oldest_batch(n); },
                                    std::move(done));
}
void BatchWriter::fetch_after(std::int64_t after_id, std::size_t n, Callback<std::vector<OutboxRecord>> done) {
  run_op<std::vector<OutboxRecord>>([after_id, n](Outbox& o) { return o.fetch_after(after_id, n); },
                                    std::move(done));
}
void BatchWriter::delete_acknowledged(std::vector<std::int64_t> ids, Callback<std::size_t> done) {
  run_op<std::size_t>([ids = std::move(ids)](Outbox& o) { return o.delete_acknowledged(ids); },
                      std::move(done));
}
void BatchWriter::move_to_dead_letters(std::int64_t id, std::string reason, Callback<Ok> done) {
  run_op<Ok>([id, reason = std::move(reason)](Outbox& o) {
    return o.move_to_dead_letters(id, reason, supervision::wall_clock_ms());
  }, std::move(done));
}
void BatchWriter::add_dead_letter(DeadLetterSource source, std::string key, std::string record,
                                  std::string reason, Callback<Ok> done) {
  run_op<Ok>([=](Outbox& o) { return o.add_dead_letter(source, key, record, reason, supervision::wall_clock_ms()); },
             std::move(done));
}
void BatchWriter::find_dead_letter(std::string key, Callback<std::optional<DeadLetter>> done) {
  run_op<std::optional<DeadLetter>>([this, key = std::move(key)](Outbox&) {
    return storage::find_dead_letter(db_.connection(), key);
  }, std::move(done));
}
void BatchWriter::list_dead_letters(std::size_t limit, std::int64_t after_id,
                                    Callback<std::vector<DeadLetter>> done) {
  run_op<std::vector<DeadLetter>>([this, limit, after_id](Outbox&) {
    return storage::list_dead_letters(db_.connection(), limit, after_id);
  }, std::move(done));
}
void BatchWriter::replay_dead_reading(std::string key, Callback<DeadLetter> done) {
  run_op<DeadLetter>([this, key = std::move(key)](Outbox&) {
    return storage::replay_dead_reading(db_.connection(), key);
  }, std::move(done));
}
void BatchWriter::drop_dead_letter(std::string key, Callback<DeadLetter> done) {
  run_op<DeadLetter>([this, key = std::move(key)](Outbox&) {
    return storage::drop_dead_letter(db_.connection(), key);
  }, std::move(done));
}
void BatchWriter::update_device_health(std::string device_id,
                                       std::optional<std::int64_t> last_good_ms,
                                       std::int64_t consecutive_failures,
                                       std::optional<std::int64_t> quarantine_until_ms,
                                       Callback<Ok> done) {
  run_op<Ok>([=](Outbox& o) {
    return o.update_device_health(device_id, last_good_ms, consecutive_failures,
                                  quarantine_until_ms);
  }, std::move(done));
}
void BatchWriter::record_quarantine(Quarantine quarantine, Callback<Ok> done) {
  run_op<Ok>([q = std::move(quarantine)](Outbox& o) { return o.record_quarantine(q); }, std::move(done));
}
void BatchWriter::clear_quarantine(std::string device_id, Callback<Ok> done) {
  run_op<Ok>([id = std::move(device_id)](Outbox& o) { return o.clear_quarantine(id); }, std::move(done));
}
void BatchWriter::quarantines(Callback<std::vector<Quarantine>> done) {
  run_op<std::vector<Quarantine>>([](Outbox& o) { return o.quarantines(); }, std::move(done));
}
void BatchWriter::enforce_retention(Callback<RetentionReport> done) {
  run_op<RetentionReport>([this](Outbox&) -> Result<RetentionReport> {
    RetentionLimits limits{config_.max_outbox_bytes, config_.max_outbox_age_s,
                           config_.batch_max_rows, 1000};
    auto r = outbox_.enforce_retention(limits, supervision::wall_clock_ms());
    if (r && r->dropped > 0) {
      stats_.retention_dropped += r->dropped;
      std::string ranges;
      for (const auto& d : r->devices)
        ranges += fmt::format("{}{} seq {}..{} ({})", ranges.empty() ? "" : ", ", d.device_id,
                              d.first_seq, d.last_seq, d.count);
      spdlog::warn("storage: {}: retention dropped {} undelivered readings in {} batches "
                   "because {} was exceeded: {}",
                   config_.path, r->dropped, r->batches, r->reason, ranges);
    }
    return r;
  }, std::move(done));
}
void BatchWriter::set_max_db_bytes(std::uint64_t bytes, Callback<Ok> done) {
  run_op<Ok>([this, bytes](Outbox&) { return db_.set_max_db_bytes(bytes); }, std::move(done));
}
void BatchWriter::quick_check(Callback<Ok> done) {
  run_op<Ok>([this](Outbox&) { return db_.quick_check(); }, std::move(done));
}

void BatchWriter::count_error(const Error& e) {
  std::atomic<std::uint64_t>& counter =
      e.code == "storage.busy"        ? stats_.errors_busy
      : e.code == "storage.disk_full" ? stats_.errors_disk_full
      : e.code == "storage.read_only" ? stats_.errors_read_only
      : e.code == "storage.corrupt"   ? stats_.errors_corrupt
                                      : stats_.errors_other;
  ++counter;
}

void BatchWriter::on_failure(const Error& e) {
  count_error(e);
  std::lock_guard lock(mutex_);
  // Logged once per episode (and again only if the cause changes).
  if (!unavailable_)
    stats_.unavailable_since_ns = std::chrono::steady_clock::now().time_since_epoch().count();
  if (!unavailable_ || unavailable_->code != e.code)
    spdlog::error("storage: store unavailable, {} readings wait in memory (at most {}): {}",
                  queue_.size(), config_.queue_capacity, e.describe());
  unavailable_ = e;
}

void BatchWriter::on_recovery() {
  std::lock_guard lock(mutex_);
  if (!unavailable_) return;
  spdlog::info("storage: {}: store available again ({} readings waiting)", config_.path,
               queue_.size());
  unavailable_.reset();
  stats_.unavailable_since_ns = 0;
}

void BatchWriter::end_drop_episode() {
  std::lock_guard lock(mutex_);
  if (drop_episode_.empty() || queue_.size() >= config_.queue_capacity) return;
  std::uint64_t total = 0;
  for (const auto& [device, n] : drop_episode_) total += n;
  spdlog::warn("storage: {}: {} readings were dropped while the queue was full, per device: {}",
               config_.path, total, device_list(drop_episode_));
  drop_episode_.clear();
}

void BatchWriter::fail(std::vector<Pending>& batch, const Error& e) {
  stats_.dropped += batch.size();
  for (auto& p : batch) deliver(p.done, Result<Ack>(e));
  batch.clear();
}

bool BatchWriter::write_batch(std::vector<Pending>& batch) {
  if (faults_) {
    if (auto fault = faults_->active("storage", "", std::chrono::steady_clock::now())) {
      fault->message = config_.path + ": " + fault->message;
      on_failure(*fault);
      return false;  // the batch stays as it is, for the retry
    }
  }
  std::vector<Reading> readings;
  readings.reserve(batch.size());
  for (auto& p : batch) readings.push_back(std::move(p.reading));
  auto acks = outbox_.append(readings);
  if (!acks) {
    for (std::size_t i = 0; i < batch.size(); ++i) batch[i].reading = std::move(readings[i]);
    on_failure(acks.error());
    return false;
  }
  stats_.committed += batch.size();
  ++stats_.batches;
  on_recovery();
  for (std::size_t i = 0; i < batch.size(); ++i) deliver(batch[i].done, Result<Ack>((*acks)[i]));
  batch.clear();
  if (on_commit_) on_commit_();
  return true;
}

void BatchWriter::run_retention() {
  if (config_.max_outbox_bytes == 0 && config_.max_outbox_age_s == 0) return;
  enforce_retention([this](Result<RetentionReport> r) {
    if (!r) spdlog::warn("storage: {}: retention failed: {}", config_.path, r.error().describe());
  });
}

void BatchWriter::loop() {
  const auto delay = std::chrono::milliseconds(config_.batch_max_delay_ms);
  const std::size_t max_rows = std::max<std::size_t>(1, config_.batch_max_rows);
  supervision::FullJitterBackoff backoff(kRetryBase, kRetryCap);
  SteadyTime retry_at{};  // in the future while the store is unavailable
  auto next_retention = std::chrono::steady_clock::now() + kRetentionEvery;
  for (;;) {
    std::vector<Task> tasks;
    std::vector<Pending> batch;
    bool stopping = false;
    {
      std::unique_lock lock(mutex_);
      while (wedged_) wake_.wait(lock);
      for (;;) {
        const auto now = std::chrono::steady_clock::now();
        stats_.heartbeat_ns = now.time_since_epoch().count();
        stopping = stopping_;
        SteadyTime due = next_retention;
        if (!queue_.empty()) {
          SteadyTime flush_at = queue_.size() >= max_rows ? now : queue_.front().arrived + delay;
          flush_at = std::max(flush_at, retry_at);
          due = std::min(due, flush_at);
        }
        if (stopping || wedged_ || !tasks_.empty() || now >= due) break;
        wake_.wait_until(lock, due);
      }
      tasks.swap(tasks_);
      const auto now = std::chrono::steady_clock::now();
      const bool may_write = stopping || now >= retry_at;
      const bool due = !queue_.empty() &&
                       (queue_.size() >= max_rows || now >= queue_.front().arrived + delay);
      if (may_write && (due || stopping)) {
        const std::size_t n = std::min(max_rows, queue_.size());
        std::move(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n),
                  std::back_inserter(batch));
        queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
      }
      stats_.queued = queue_.size();
    }
    for (auto& task : tasks) task(true);
    if (!batch.empty()) {
      if (write_batch(batch)) {
        retry_at = {};
        backoff.reset();
        end_drop_episode();
      } else if (stopping) {
        fail(batch, make_error("storage.stopped",
                               fmt::format("{}: the writer stopped while the store was "
                                           "unavailable; reading not stored", config_.path),
                               true, "see the previous storage error"));
      } else {
        std::lock_guard lock(mutex_);  // back to the front, in order, for the retry
        queue_.insert(queue_.begin(), std::make_move_iterator(batch.begin()),
                      std::make_move_iterator(batch.end()));
        batch.clear();
        retry_at = std::chrono::steady_clock::now() + backoff.next();
      }
    }
    if (std::chrono::steady_clock::now() >= next_retention) {
      run_retention();
      next_retention = std::chrono::steady_clock::now() + kRetentionEvery;
    }
    if (stopping) {
      std::lock_guard lock(mutex_);
      if (queue_.empty() && tasks_.empty()) {
        finished_ = true;
        break;
      }
    }
  }
  end_drop_episode();
}

}  // namespace edgepoll::storage
