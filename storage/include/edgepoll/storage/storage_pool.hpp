#pragma once
// The supervised side of the store: `storage_pool` (one_for_one) under `deps`,
// with the writer process that owns the BatchWriter. Other parts of the node
// reach the current writer through a WriterHandle: when the writer process is
// down or restarting the handle is empty, and callers hold readings in their
// own bounded buffers (or count them dropped) instead of blocking.
#include <functional>
#include <memory>
#include <mutex>

#include "edgepoll/storage/batch_writer.hpp"
#include "edgepoll/storage/reader_pool.hpp"
#include "edgepoll/storage/store_config.hpp"
#include "edgepoll/supervision/child_spec.hpp"
#include "edgepoll/supervision/fault_switch.hpp"

namespace edgepoll::storage {

class WriterHandle {
 public:
  // Faults for the writers started after this (chaos.fail storage.*; set
  // before the tree starts, only with [chaos] enabled).
  void use_faults(std::shared_ptr<const supervision::FaultSwitch> faults) {
    std::lock_guard lock(mutex_);
    faults_ = std::move(faults);
  }
  std::shared_ptr<const supervision::FaultSwitch> faults() const {
    std::lock_guard lock(mutex_);
    return faults_;
  }

  std::shared_ptr<BatchWriter> get() const {
    std::lock_guard lock(mutex_);
    return writer_;
  }
  void set(std::shared_ptr<BatchWriter> writer) {
    std::lock_guard lock(mutex_);
    writer_ = std::move(writer);
  }
  // Unpublishes `writer` unless a newer one was published since.
  void clear(const std::shared_ptr<BatchWriter>& writer) {
    std::lock_guard lock(mutex_);
    if (writer_ == writer) writer_.reset();
  }

  // Who is told, on the writer's thread, that readings were committed (the
  // Kafka producer's wake-up; it must not block). It outlives writer
  // restarts; a newer listener replaces the older one.
  void listen_for_commits(std::function<void()> listener) {
    std::lock_guard lock(mutex_);
    commit_listener_ = listener ? std::make_shared<const std::function<void()>>(std::move(listener)) : nullptr;
  }
  void committed() const {
    std::shared_ptr<const std::function<void()>> listener;
    {
      std::lock_guard lock(mutex_);
      listener = commit_listener_;
    }
    if (listener) (*listener)();
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<BatchWriter> writer_;
  std::shared_ptr<const std::function<void()>> commit_listener_;
  std::shared_ptr<const supervision::FaultSwitch> faults_;
};

// Opens the database (checks, migrations) and runs the BatchWriter thread; its
// init fails with the Database error (naming the file) when the store cannot
// be opened, so the supervisor reports it and retries within its intensity.
class StoreWriterProcess final : public supervision::Behaviour {
 public:
  StoreWriterProcess(StoreConfig config, std::shared_ptr<WriterHandle> handle);
  // A process killed outright runs no terminate(): the writer, and with it the
  // flock on the file, still goes with the process.
  ~StoreWriterProcess() override;
  supervision::InitResult init(supervision::Process& self) override;
  void handle(supervision::Process& self, supervision::Message& message) override;
  void terminate(supervision::Process& self, const supervision::ExitReason& reason) override;
  void describe(nlohmann::json& out) const override;

 private:
  struct HealthTick {};
  StoreConfig config_;
  std::shared_ptr<WriterHandle> handle_;
  std::shared_ptr<BatchWriter> writer_;
};

// storage_pool (one_for_one): the writer, then `config.readers` readers
// (reader:1 .. reader:N) serving queries through `readers`.
supervision::ChildSpec storage_pool_child(StoreConfig config, std::shared_ptr<WriterHandle> handle,
                                          std::shared_ptr<ReaderPool> readers);

}  // namespace edgepoll::storage
