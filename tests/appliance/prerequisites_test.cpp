// The prerequisites worker against a real store: at boot it opens the database
// (and so refuses a store another owner holds), and restarted while this
// node's storage writer holds the store it comes back alone instead of meeting
// our own lock at every retry and ending the root (a chaos kill found that).
// FakeClock runtime; the writer is the real storage_pool on a temp SQLite file.
#include "edgepoll/appliance/prerequisites.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>

#include "edgepoll/storage/database.hpp"
#include "edgepoll/storage/storage_pool.hpp"
#include "edgepoll/supervision/message.hpp"
#include "supervision/test_support.hpp"

namespace edgepoll::appliance {
namespace {
using namespace supervision;
using supervision::testing::TestNode;
namespace fs = std::filesystem;

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/edgepoll-prerequisites-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
  fs::path path;
};

storage::StoreConfig store_in(const TempDir& dir) {
  storage::StoreConfig c;
  c.path = (dir.path / "edgepoll.db").string();
  c.readers = 0;
  return c;
}

// The root's first two children as node_tree makes them: prerequisites, then the store.
SupervisorSpec node_like(const storage::StoreConfig& config, std::shared_ptr<storage::WriterHandle> writer) {
  ChildFactory prerequisites = [config, writer](const ChildStart&) -> Result<std::shared_ptr<Behaviour>> {
    return std::shared_ptr<Behaviour>(
        std::make_shared<Prerequisites>(config, std::shared_ptr<const storage::WriterHandle>(writer)));
  };
  return {{Strategy::one_for_one, 3, 60},
          {worker_child("prerequisites", prerequisites, Restart::transient),
           storage::storage_pool_child(config, writer, std::make_shared<storage::ReaderPool>())}};
}

TEST(Prerequisites, ACrashWhileTheWriterHoldsTheStoreRestartsItAloneAndTheRootStays) {
  TempDir dir;
  const auto config = store_in(dir);
  auto writer = std::make_shared<storage::WriterHandle>();
  TestNode node;
  const Pid root = node.start_root(node_like(config, writer));
  const Pid before = node.child(root, "prerequisites");
  const Pid pool = node.child(root, "storage_pool");
  ASSERT_TRUE(before);
  ASSERT_TRUE(writer->get()) << "the storage writer did not start";

  // As chaos.exit "crash" does: the process ends itself with an error reason.
  node.runtime.send(before, SysExit{ExitReason::error("chaos: crash injected")});
  node.settle();

  EXPECT_TRUE(root.alive()) << "the root gave up: the restarted prerequisites could not start";
  const Pid after = node.child(root, "prerequisites");
  EXPECT_TRUE(after) << "prerequisites was not restarted";
  EXPECT_NE(after.id(), before.id());
  EXPECT_EQ(node.observer->count(ReportKind::child_restarted, "prerequisites"), 1u);
  EXPECT_EQ(node.child(root, "storage_pool"), pool) << "the store restarted with it";
  EXPECT_EQ(node.observer->count(ReportKind::start_error), 0u);
  EXPECT_EQ(node.observer->count(ReportKind::restart_intensity_reached), 0u);
  stop_supervisor(node.runtime, root, ExitReason::shutdown());
  node.settle();
}

TEST(Prerequisites, WithoutAWriterOfOursAStoreHeldByAnotherOwnerIsRefused) {
  TempDir dir;
  const auto config = store_in(dir);
  auto other_owner = storage::Database::open(config);
  ASSERT_TRUE(other_owner.ok()) << other_owner.error().describe();
  TestNode node;
  ChildFactory prerequisites = [config](const ChildStart&) -> Result<std::shared_ptr<Behaviour>> {
    return std::shared_ptr<Behaviour>(
        std::make_shared<Prerequisites>(config, std::make_shared<const storage::WriterHandle>()));
  };
  auto root = node.runtime.spawn(
      std::make_shared<Supervisor>(SupervisorSpec{{Strategy::one_for_one, 3, 60},
                                                  {worker_child("prerequisites", prerequisites, Restart::transient)}}),
      "root");
  node.settle();
  const bool refused = !root.ok() || !root.value().alive();
  EXPECT_TRUE(refused) << "prerequisites accepted a store locked by another owner";
  const auto reports = node.observer->reports();
  EXPECT_TRUE(std::any_of(reports.begin(), reports.end(), [](const Report& r) {
    return r.detail.find("storage.locked") != std::string::npos || r.reason.to_string().find("locked") != std::string::npos;
  })) << "no report names the lock";
}

}  // namespace
}  // namespace edgepoll::appliance
