#include "edgepoll/storage/reader_pool.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace edgepoll::storage {

using namespace supervision;

ReaderThread::ReaderThread(Reader reader) : reader_(std::move(reader)), thread_([this] { loop(); }) {}

ReaderThread::~ReaderThread() { stop(); }

bool ReaderThread::submit(ReaderJob job) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || jobs_.size() >= kMaxQueued) return false;
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
  return true;
}

std::size_t ReaderThread::queued() const {
  std::lock_guard lock(mutex_);
  return jobs_.size();
}

void ReaderThread::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void ReaderThread::loop() {
  for (;;) {
    ReaderJob job;
    bool stopping = false;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      stopping = stopping_;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    try {
      job(stopping ? nullptr : &reader_);
    } catch (const std::exception& e) {
      spdlog::error("storage: a reader job threw: {}", e.what());  // the caller's bug; the reader goes on
    }
  }
}

bool ReaderPool::submit(ReaderJob job) {
  std::shared_ptr<ReaderThread> best;
  {
    std::lock_guard lock(mutex_);
    std::size_t least = ReaderThread::kMaxQueued;
    for (const auto& r : readers_) {
      if (const auto n = r->queued(); n < least) {
        least = n;
        best = r;
      }
    }
  }
  return best && best->submit(std::move(job));
}

std::size_t ReaderPool::running() const {
  std::lock_guard lock(mutex_);
  return readers_.size();
}

void ReaderPool::add(std::shared_ptr<ReaderThread> reader) {
  std::lock_guard lock(mutex_);
  readers_.push_back(std::move(reader));
}

void ReaderPool::remove(const std::shared_ptr<ReaderThread>& reader) {
  std::lock_guard lock(mutex_);
  readers_.erase(std::remove(readers_.begin(), readers_.end(), reader), readers_.end());
}

ReaderProcess::ReaderProcess(StoreConfig config, std::shared_ptr<ReaderPool> pool)
    : config_(std::move(config)), pool_(std::move(pool)) {}

InitResult ReaderProcess::init(Process&) {
  auto reader = Reader::open(config_);
  if (!reader.ok()) return InitResult::error(reader.error());
  thread_ = std::make_shared<ReaderThread>(std::move(reader.value()));
  pool_->add(thread_);
  return InitResult::ok();
}

void ReaderProcess::handle(Process& self, Message& message) { unexpected(self, message); }

void ReaderProcess::terminate(Process&, const ExitReason&) {
  if (!thread_) return;
  pool_->remove(thread_);
  thread_->stop();
}

}  // namespace edgepoll::storage
