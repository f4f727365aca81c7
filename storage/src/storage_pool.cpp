#include "edgepoll/storage/storage_pool.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "edgepoll/storage/database.hpp"
#include "edgepoll/supervision/supervisor.hpp"

namespace edgepoll::storage {

using namespace supervision;

StoreWriterProcess::StoreWriterProcess(StoreConfig config, std::shared_ptr<WriterHandle> handle)
    : config_(std::move(config)), handle_(std::move(handle)) {}

InitResult StoreWriterProcess::init(Process&) {
  auto db = Database::open(config_);
  if (!db.ok()) return InitResult::error(db.error());
  // The handle, not this process, is what the writer tells of commits: the
  // listener (the Kafka producer) comes and goes on its own. Weak: the handle
  // holds the writer.
  writer_ = std::make_shared<BatchWriter>(std::move(db.value()), config_, handle_->faults(),
                                          [handle = std::weak_ptr(handle_)] {
                                            if (auto h = handle.lock()) h->committed();
                                          });
  handle_->set(writer_);
  spdlog::info("storage event=writer_started file={}", config_.path);
  return InitResult::ok();
}

StoreWriterProcess::~StoreWriterProcess() {
  // Without this a `kill` left the writer published and holding the file's
  // lock: the restarted writer met "locked by another edgepoll process" at
  // every retry, storage_pool gave up, then deps, then root (the chaos suite's
  // first finding).
  if (!writer_) return;
  handle_->clear(writer_);
  writer_->stop();
}

void StoreWriterProcess::handle(Process& self, Message& message) { unexpected(self, message); }

void StoreWriterProcess::terminate(Process&, const ExitReason&) {
  // Unpublish first so nobody submits to a writer that is stopping; stop()
  // flushes what is queued and answers everyone.
  handle_->set(nullptr);
  if (writer_) writer_->stop();
}

void StoreWriterProcess::describe(nlohmann::json& out) const {
  if (!writer_) return;
  const auto& s = writer_->stats();
  const auto health = writer_->health();
  out["store"] = config_.path;
  out["store_health"] = health.ok() ? "ok" : health.error().describe();
  out["committed"] = s.committed.load();
  out["queued"] = s.queued.load();
  out["dropped"] = s.dropped.load();
}

ChildSpec storage_pool_child(StoreConfig config, std::shared_ptr<WriterHandle> handle,
                             std::shared_ptr<ReaderPool> readers) {
  ChildFactory writer = [config, handle](const ChildStart&) -> Result<std::shared_ptr<Behaviour>> {
    return std::shared_ptr<Behaviour>(std::make_shared<StoreWriterProcess>(config, handle));
  };
  // The writer thread flushes on stop: give it time to commit what it holds.
  ChildSpec writer_spec = worker_child("writer", writer, Restart::permanent, Shutdown::timeout(std::chrono::seconds(30)));
  SupervisorSpec pool{{Strategy::one_for_one, 3, 30}, {writer_spec}};
  // After the writer: it creates and migrates the store the readers open.
  for (std::size_t i = 1; i <= config.readers; ++i) {
    ChildFactory reader = [config, readers](const ChildStart&) -> Result<std::shared_ptr<Behaviour>> {
      return std::shared_ptr<Behaviour>(std::make_shared<ReaderProcess>(config, readers));
    };
    pool.children.push_back(worker_child("reader:" + std::to_string(i), reader));
  }
  return supervisor_child("storage_pool", pool);
}

}  // namespace edgepoll::storage
