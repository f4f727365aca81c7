// StoreQuarantineLog against a real storage writer on a temporary SQLite file:
// what the config manager records comes back on restore (as after a restart),
// and a missing writer is an error value, counted, never a crash.
#include "edgepoll/appliance/store_quarantine_log.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <future>

#include "edgepoll/storage/batch_writer.hpp"

namespace edgepoll::appliance {
namespace {
using namespace std::chrono_literals;
namespace fs = std::filesystem;

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/edgepoll-quarantine-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
  fs::path path;
};

Result<std::vector<pollers::RecordedQuarantine>> restored(StoreQuarantineLog& log) {
  std::promise<Result<std::vector<pollers::RecordedQuarantine>>> p;
  auto f = p.get_future();
  log.restore([&p](Result<std::vector<pollers::RecordedQuarantine>> r) { p.set_value(std::move(r)); });
  if (f.wait_for(10s) != std::future_status::ready) throw std::runtime_error("restore did not answer");
  return f.get();
}

std::shared_ptr<storage::BatchWriter> writer_on(const fs::path& db) {
  storage::StoreConfig config;
  config.path = db.string();
  auto opened = storage::Database::open(config);
  if (!opened.ok()) throw std::runtime_error(opened.error().describe());
  return std::make_shared<storage::BatchWriter>(std::move(opened.value()), config);
}

TEST(StoreQuarantineLog, WhatIsRecordedComesBackAfterARestartAndAReleaseIsForgotten) {
  TempDir dir;
  const auto until = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'900'000'000'000));
  {
    auto handle = std::make_shared<storage::WriterHandle>();
    handle->set(writer_on(dir.path / "edgepoll.db"));
    StoreQuarantineLog log(handle);
    log.quarantined({"bad", 2, until, "device subtree ended: crash"});
    log.quarantined({"gone", 1, until, "start failed"});
    log.released("gone");
    ASSERT_TRUE(restored(log).ok());  // the writer runs operations in order: the writes are in
    handle->get()->stop();
  }
  auto handle = std::make_shared<storage::WriterHandle>();
  handle->set(writer_on(dir.path / "edgepoll.db"));  // a new writer on the same file
  StoreQuarantineLog log(handle);
  auto r = restored(log);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].device_id, "bad");
  EXPECT_EQ((*r)[0].attempt, 2u);
  EXPECT_EQ((*r)[0].until, until);
  EXPECT_EQ((*r)[0].reason, "device subtree ended: crash");
  EXPECT_EQ(log.write_failures(), 0u);
  handle->get()->stop();
}

TEST(StoreQuarantineLog, NoWriterIsAnErrorValueAndCounted) {
  StoreQuarantineLog log(std::make_shared<storage::WriterHandle>());
  auto r = restored(log);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "storage.unavailable");
  log.quarantined({"bad", 1, std::chrono::system_clock::now(), "crash"});
  log.released("bad");
  EXPECT_EQ(log.write_failures(), 2u);
}

}  // namespace
}  // namespace edgepoll::appliance
