#include "edgepoll/storage/database.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "edgepoll/storage/outbox.hpp"
#include "store_fixture.hpp"

namespace edgepoll::storage {
namespace {

using testing::config_for;
using testing::file_hash;
using testing::TempDir;

// Runs the sqlite3 shell (the reference client) on `path`; returns its stdout.
std::string sqlite_cli(const std::string& path, const std::string& sql) {
  const std::string cmd = "sqlite3 '" + path + "' \"" + sql + "\" 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[256];
  while (p && std::fgets(buf, sizeof buf, p)) out += buf;
  if (p) ::pclose(p);
  return out;
}

// A store with `n` readings, closed cleanly (WAL checkpointed into the file).
void make_store(const std::string& path, int n = 2000) {
  auto db = Database::open(config_for(path));
  ASSERT_TRUE(db.ok()) << db.error().describe();
  Outbox outbox(*db);
  std::vector<Reading> batch;
  for (int i = 0; i < n; ++i)
    batch.push_back(Reading{"dev-" + std::to_string(i % 7), 1000 + i, std::string(100, 'p')});
  ASSERT_TRUE(outbox.append(batch).ok());
}

// Boot must refuse `path` with `code`, naming the file and `problem`, with a
// hint, and leave every byte of the file as it was.
void expect_refused(const std::string& path, const std::string& code, const std::string& problem,
                    std::uint32_t busy_timeout_ms = 200) {
  const auto before = file_hash(path);
  const auto size = std::filesystem::file_size(path);
  auto cfg = config_for(path);
  cfg.busy_timeout_ms = busy_timeout_ms;
  auto db = Database::open(cfg);
  ASSERT_FALSE(db.ok()) << "boot accepted " << path;
  const Error& e = db.error();
  EXPECT_EQ(e.code, code) << e.describe();
  EXPECT_NE(e.message.find(path), std::string::npos) << e.message;
  EXPECT_NE(e.message.find(problem), std::string::npos) << e.message;
  EXPECT_FALSE(e.hint.empty()) << e.describe();
  EXPECT_EQ(std::filesystem::file_size(path), size);
  EXPECT_EQ(file_hash(path), before) << "the refused file was modified";
}

TEST(Database, CreatesAFreshStoreInWalWithItsSchema) {
  TempDir dir;
  const auto path = dir.file("edgepoll.db");
  { ASSERT_TRUE(Database::open(config_for(path)).ok()); }
  const auto out = sqlite_cli(path, "PRAGMA journal_mode; PRAGMA application_id; PRAGMA user_version;"
                                    " SELECT name FROM sqlite_master WHERE type='table' ORDER BY name;");
  EXPECT_EQ(out, "wal\n" + std::to_string(Database::kApplicationId) + "\n" +
                     std::to_string(Database::schema_version()) +
                     "\ndead_letters\ndevice_state\noutbox\nsqlite_sequence\n");
}

TEST(Database, MigratesAnEmptySqliteFileForward) {
  TempDir dir;
  const auto path = dir.file("empty.db");
  sqlite_cli(path, "PRAGMA journal_mode=WAL;");  // a valid SQLite file at version 0
  ASSERT_TRUE(std::filesystem::exists(path));
  auto db = Database::open(config_for(path));
  ASSERT_TRUE(db.ok()) << db.error().describe();
  EXPECT_TRUE(db->quick_check().ok());
  EXPECT_TRUE(db->integrity_check().ok());
}

TEST(Database, ReopensItsOwnStoreAndKeepsTheData) {
  TempDir dir;
  const auto path = dir.file("edgepoll.db");
  make_store(path, 10);
  auto db = Database::open(config_for(path));
  ASSERT_TRUE(db.ok()) << db.error().describe();
  Outbox outbox(*db);
  auto rows = outbox.fetch_oldest_batch(100);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 10u);
}

TEST(Database, RefusesAFileThatIsNotSqlite) {
  TempDir dir;
  const auto path = dir.file("edgepoll.db");
  std::ofstream(path) << std::string(8192, 'x');
  expect_refused(path, "storage.not_sqlite", "not a SQLite database");
}

TEST(Database, RefusesAnEmptyFile) {
  TempDir dir;
  const auto path = dir.file("edgepoll.db");
  std::ofstream{path};
  expect_refused(path, "storage.truncated", "empty");
}

TEST(Database, RefusesATruncatedFile) {
  TempDir dir;
  const auto path = dir.file("edgepoll.db");
  make_store(path);
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  expect_refused(path, "storage.truncated", "truncated");
}

TEST(Database, RefusesAFileTruncatedInsideItsHeader) {
  TempDir dir;
  const auto path = dir.file("edgepoll.db");
  make_store(path);
  std::filesystem::resize_file(path, 60);
  expect_refused(path, "storage.truncated", "truncated");
}

TEST(Database, RefusesACorruptFile) {
  TempDir dir;
  const auto path = dir.file("edgepoll.db");
  make_store(path);
  ASSERT_GT(std::filesystem::file_size(path), 4u * 4096);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(2 * 4096);  // page 3: a b-tree page of the outbox
    const std::string garbage(4096, '\xA5');
    f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  expect_refused(path, "storage.corrupt", "corrupt");
}

TEST(Database, RefusesANewerSchema) {
  TempDir dir;
  const auto path = dir.file("edgepoll.db");
  make_store(path, 5);
  sqlite_cli(path, "PRAGMA user_version = 99;");
  expect_refused(path, "storage.newer_schema", "schema version 99");
}

TEST(Database, RefusesAnotherApplicationsDatabase) {
  TempDir dir;
  const auto path = dir.file("other.db");
  sqlite_cli(path, "CREATE TABLE invoices(id INTEGER PRIMARY KEY); INSERT INTO invoices VALUES(1);");
  expect_refused(path, "storage.foreign", "another application");
}

TEST(Database, RefusesAFileOwnedByAnotherEdgepoll) {
  TempDir dir;
  const auto path = dir.file("edgepoll.db");
  make_store(path, 5);
  auto first = Database::open(config_for(path));
  ASSERT_TRUE(first.ok());
  expect_refused(path, "storage.locked", "locked by another edgepoll process");
}

TEST(Database, RefusesAFileLockedByAnotherProcess) {
  TempDir dir;
  const auto path = dir.file("edgepoll.db");
  make_store(path, 5);
  testing::LockingShell shell(path);
  expect_refused(path, "storage.locked", "locked by another process", 50);
  shell.release();
  EXPECT_TRUE(Database::open(config_for(path)).ok()) << "the lock is gone: boot must succeed";
}

TEST(Database, RefusesAMissingDirectoryByName) {
  TempDir dir;
  const auto path = dir.file("no-such-dir/edgepoll.db");
  auto db = Database::open(config_for(path));
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.error().code, "storage.no_directory");
  EXPECT_NE(db.error().message.find("no-such-dir"), std::string::npos);
}

// A store written before quarantines were persisted (schema version 1) opens,
// is migrated forward, and keeps its rows.
TEST(Database, AVersionOneStoreIsMigratedAndKeepsItsDeviceState) {
  TempDir dir;
  const auto path = dir.file("edgepoll.db");
  make_store(path, 10);
  sqlite_cli(path, "ALTER TABLE device_state DROP COLUMN quarantine_reason; "
                   "ALTER TABLE device_state DROP COLUMN quarantine_attempt; "
                   "UPDATE device_state SET quarantine_until_ms = 77 WHERE device_id = 'dev-1'; "
                   "PRAGMA user_version = 1;");
  ASSERT_EQ(sqlite_cli(path, "PRAGMA user_version;"), "1\n");
  auto db = Database::open(config_for(path));
  ASSERT_TRUE(db.ok()) << db.error().describe();
  EXPECT_EQ(sqlite_cli(path, "PRAGMA user_version;"), std::to_string(Database::schema_version()) + "\n");
  Outbox outbox(*db);
  auto q = outbox.quarantines();
  ASSERT_TRUE(q.ok()) << q.error().describe();
  ASSERT_EQ(q->size(), 1u);
  EXPECT_EQ((*q)[0].device_id, "dev-1");
  EXPECT_EQ((*q)[0].until_ms, 77);
  EXPECT_EQ((*q)[0].attempt, 0);
  EXPECT_EQ(outbox.fetch_oldest_batch(100)->size(), 10u);
}

}  // namespace
}  // namespace edgepoll::storage
