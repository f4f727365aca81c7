#pragma once
// The single writer of the store.
//
// SQLite calls block (disk I/O, fsync, lock waits), and handlers on the Asio
// runtime must never block, so the writer owns ONE dedicated thread: callers
// submit() into a bounded queue and get their answer through a callback. One
// thread is also what SQLite wants for writes (one writer at a time) and it
// lets many readings share one transaction: a batch commits when it holds
// batch_max_rows readings or batch_max_delay_ms after its first one, whichever
// comes first.
//
// Callbacks run on the writer thread, exactly once, and only after COMMIT (an
// Ack carries the assigned sequence) or with an Error; the caller posts the
// result to its own strand. When the store is unavailable (busy, disk full,
// read-only, corrupt) committed rows stay as they are, pending readings wait in
// memory up to queue_capacity, submit() refuses (and counts, and logs once per
// episode with the device ids) what does not fit, and the writer retries with
// backoff until the condition clears: it resumes by itself.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "edgepoll/storage/database.hpp"
#include "edgepoll/storage/outbox.hpp"
#include "edgepoll/storage/reading.hpp"
#include "edgepoll/storage/store_config.hpp"
#include "edgepoll/supervision/fault_switch.hpp"
#include "edgepoll/supervision/result.hpp"

namespace edgepoll::storage {

// Plain counters; the metrics component reads them.
struct WriterStats {
  std::atomic<std::uint64_t> submitted{0};
  std::atomic<std::uint64_t> committed{0};  // readings acknowledged after COMMIT
  std::atomic<std::uint64_t> batches{0};    // transactions committed
  std::atomic<std::uint64_t> dropped{0};    // refused because the queue was full, or at stop
  std::atomic<std::uint64_t> retention_dropped{0};
  std::atomic<std::uint64_t> errors_busy{0};
  std::atomic<std::uint64_t> errors_disk_full{0};
  std::atomic<std::uint64_t> errors_read_only{0};
  std::atomic<std::uint64_t> errors_corrupt{0};
  std::atomic<std::uint64_t> errors_other{0};
  std::atomic<std::uint64_t> queued{0};  // readings waiting right now
  // steady_clock nanoseconds when the writer thread last went round its loop
  // (about once a second when idle): the watchdog pets systemd only while it moves.
  std::atomic<std::int64_t> heartbeat_ns{0};
  // steady_clock nanoseconds since the store has been unavailable; 0 when it is available.
  std::atomic<std::int64_t> unavailable_since_ns{0};
};

class BatchWriter {
 public:
  using AckCallback = std::function<void(Result<Ack>)>;
  template <class T>
  using Callback = std::function<void(Result<T>)>;

  // With `faults`, a batch fails with the error the switch holds for seam
  // "storage" (chaos.fail storage.busy / storage.disk_full) instead of reaching
  // the outbox: the writer's own unavailable-store path runs.
  // `on_commit` (optional) runs on the writer thread after each batch of
  // readings committed and was acknowledged: the Kafka producer is woken by it
  // instead of polling the outbox for new rows. It must not block.
  BatchWriter(Database db, const StoreConfig& config, std::shared_ptr<const supervision::FaultSwitch> faults = nullptr,
              std::function<void()> on_commit = {});
  ~BatchWriter();  // stop()
  BatchWriter(const BatchWriter&) = delete;
  BatchWriter& operator=(const BatchWriter&) = delete;

  // Accepted (the callback will fire), or refused with storage.queue_full /
  // storage.stopped (the callback will not fire; the reading is counted dropped).
  Status submit(Reading reading, AckCallback on_stored);

  // The Kafka producer's side. Each runs on the writer thread between batches.
  void fetch_oldest_batch(std::size_t n, Callback<std::vector<OutboxRecord>> done);
  // Outbox::fetch_after: the producer's read past its cursor.
  void fetch_after(std::int64_t after_id, std::size_t n, Callback<std::vector<OutboxRecord>> done);
  void delete_acknowledged(std::vector<std::int64_t> ids, Callback<std::size_t> done);
  void move_to_dead_letters(std::int64_t id, std::string reason, Callback<Ok> done);
  void add_dead_letter(DeadLetterSource source, std::string key, std::string record,
                       std::string reason, Callback<Ok> done);
  // The operator's side of dead_letters (edgepollctl dlq, via the control
  // socket). `key` is a dead letter's id or its record key.
  void find_dead_letter(std::string key, Callback<std::optional<DeadLetter>> done);
  void list_dead_letters(std::size_t limit, std::int64_t after_id, Callback<std::vector<DeadLetter>> done);
  // A reading back into the outbox with its own device and sequence.
  void replay_dead_reading(std::string key, Callback<DeadLetter> done);
  void drop_dead_letter(std::string key, Callback<DeadLetter> done);
  void update_device_health(std::string device_id, std::optional<std::int64_t> last_good_ms,
                            std::int64_t consecutive_failures,
                            std::optional<std::int64_t> quarantine_until_ms, Callback<Ok> done);
  // Quarantines (the config manager's, through the appliance's QuarantineLog).
  void record_quarantine(Quarantine quarantine, Callback<Ok> done);
  void clear_quarantine(std::string device_id, Callback<Ok> done);
  void quarantines(Callback<std::vector<Quarantine>> done);
  // Runs retention now (it also runs by itself about once a second).
  void enforce_retention(Callback<RetentionReport> done);
  // Disk budget (PRAGMA max_page_count); raising it is how space "returns".
  void set_max_db_bytes(std::uint64_t bytes, Callback<Ok> done);
  // For the prerequisites check and operators.
  void quick_check(Callback<Ok> done);

  // ok, or the error that makes the store unavailable right now.
  Status health() const;
  const WriterStats& stats() const { return stats_; }

  // Test hook (EDGEPOLL_TEST_HOOKS only): while wedged the writer thread blocks
  // as a thread stuck in a system call would, and stops its heartbeat.
  void wedge_for_test(bool wedged);

  // Flushes what is queued (one attempt), fails the rest with storage.stopped,
  // answers queued operations, and joins the thread. Idempotent.
  void stop();

 private:
  struct Pending {
    Reading reading;
    AckCallback done;
    std::chrono::steady_clock::time_point arrived;
  };
  using Task = std::function<void(bool run)>;  // run=false: answer "stopped"

  void post(Task task);
  template <class T, class Op>
  void run_op(Op op, Callback<T> done);
  void loop();
  // true when committed; false leaves `batch` intact for a retry.
  bool write_batch(std::vector<Pending>& batch);
  void count_error(const Error& e);
  void on_failure(const Error& e);  // a batch failed: counts, marks the episode
  void on_recovery();
  void run_retention();
  void fail(std::vector<Pending>& batch, const Error& e);
  void end_drop_episode();

  StoreConfig config_;
  std::shared_ptr<const supervision::FaultSwitch> faults_;
  std::function<void()> on_commit_;
  Database db_;
  Outbox outbox_;  // touched only on the writer thread
  WriterStats stats_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  std::vector<Task> tasks_;
  bool stopping_ = false;
  bool finished_ = false;  // the thread has left its loop
  bool wedged_ = false;    // test hook
  std::optional<Error> unavailable_;           // the current episode's error
  std::map<std::string, std::uint64_t> drop_episode_;  // device -> readings refused
  std::thread thread_;  // last: starts after everything above exists
};

}  // namespace edgepoll::storage
