#pragma once
// The store's readers: `[storage] readers` read-only connections under
// storage_pool, each owned by a supervised process and run on a thread of its
// own, serving the node's queries (outbox depth and age, dead letters for
// /ready and /metrics, later the operator CLI). WAL lets them read while the
// writer commits, so no query waits on the writer and none runs on the event loop.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "edgepoll/storage/reader.hpp"
#include "edgepoll/storage/store_config.hpp"
#include "edgepoll/supervision/child_spec.hpp"
#include "edgepoll/supervision/process.hpp"

namespace edgepoll::storage {

// A query: runs on a reader thread with its connection, or with null when the
// reader stopped before it ran (every job runs exactly once).
using ReaderJob = std::function<void(Reader*)>;

// One reader thread and its connection.
class ReaderThread {
 public:
  explicit ReaderThread(Reader reader);
  ~ReaderThread();  // stop()
  // false when the queue holds `kMaxQueued` jobs already (the job does not run).
  bool submit(ReaderJob job);
  std::size_t queued() const;
  void stop();  // runs what is left with null, joins

  static constexpr std::size_t kMaxQueued = 64;

 private:
  void loop();
  Reader reader_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<ReaderJob> jobs_;
  bool stopping_ = false;
  std::thread thread_;  // last
};

// What the node holds: the readers running right now (empty while storage restarts).
class ReaderPool {
 public:
  // Runs `job` on the least busy reader; false (it does not run) when no reader
  // runs or all are full.
  bool submit(ReaderJob job);
  std::size_t running() const;

  void add(std::shared_ptr<ReaderThread> reader);
  void remove(const std::shared_ptr<ReaderThread>& reader);

 private:
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<ReaderThread>> readers_;
};

// The supervised process of one reader: opens the store read-only in init
// (after the writer created and migrated it) and adds its thread to the pool.
class ReaderProcess final : public supervision::Behaviour {
 public:
  ReaderProcess(StoreConfig config, std::shared_ptr<ReaderPool> pool);
  supervision::InitResult init(supervision::Process& self) override;
  void handle(supervision::Process& self, supervision::Message& message) override;
  void terminate(supervision::Process& self, const supervision::ExitReason& reason) override;

 private:
  StoreConfig config_;
  std::shared_ptr<ReaderPool> pool_;
  std::shared_ptr<ReaderThread> thread_;
};

}  // namespace edgepoll::storage
