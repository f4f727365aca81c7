// A quarantine outlives the daemon: a bad device quarantined, the daemon killed
// with -9 and started again, and the device is not polled before its time (no
// herd of bad devices after a crash loop), then retried with its backoff going on.
#include <gtest/gtest.h>

#include <fstream>

#include "daemon_process.hpp"

namespace edgepoll {
namespace {
using namespace std::chrono_literals;
using namespace testing;
namespace fs = std::filesystem;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Requests device-sim has served to `device`.
int requests_to(unsigned short sim_port, const std::string& device) {
  auto stats = get_json(sim_port, "/stats");
  return stats.is_object() && stats["devices"].contains(device) ? stats["devices"][device].get<int>() : 0;
}

// The config manager's view in /tree, and whether the device has a subtree.
struct Seen {
  int quarantined = -1;
  bool bad_running = false;
};
Seen seen(unsigned short port) {
  Seen s;
  auto tree = get_json(port, "/tree");
  const auto* edge = tree_child(tree, "edge");
  if (!edge) return s;
  if (const auto* m = tree_child(*edge, "config_manager")) s.quarantined = m->value("devices_quarantined", -1);
  if (const auto* p = tree_child(*edge, "pollers")) s.bad_running = tree_child(*p, "device:bad") != nullptr;
  return s;
}

TEST(Quarantine, AQuarantinedDeviceWaitsForItsTimeAcrossAKillNineAndIsRetriedAfter) {
  TempDir dir;
  ChildProcess sim(DEVICE_SIM_BIN, {"--listen", "127.0.0.1:0", "--device", "bad=garbage"});
  const std::string address = first_line_value(sim, "listening=");
  const auto sim_port = static_cast<unsigned short>(std::stoi(address.substr(address.rfind(':') + 1)));
  const fs::path db = dir.path / "edgepoll.db";
  const fs::path config = dir.path / "edgepoll.toml";
  {
    std::ofstream out(config);
    // A long backoff: the daemon itself does not retry within the test.
    out << "[storage]\npath = \"" << db.string() << "\"\n\n[health]\nport = 0\n\n"
        << "[pollers]\nbackoff_base = \"1h\"\nbackoff_cap = \"1h\"\n\n";
    for (const std::string id : {"bad", "good"}) {
      out << "[[device]]\nid = \"" << id << "\"\nurl = \"http://" << address << "/devices/" << id << "\"\n"
          << "interval = \"1s\"\ntimeout = \"500ms\"\n"
          << "metrics = [ { pointer = \"/temperature\", name = \"temperature\", type = \"float\" } ]\n\n";
    }
  }
  const std::vector<std::string> args = {"--config", config.string()};
  auto quarantine_row = [&] {
    return sql_rows(db, "SELECT quarantine_attempt, quarantine_until_ms, quarantine_reason FROM device_state "
                        "WHERE device_id = 'bad' AND quarantine_until_ms IS NOT NULL");
  };
  {
    ChildProcess daemon(EDGEPOLL_BIN, args);
    const auto port = daemon_health_port(daemon);
    ASSERT_NE(port, 0);
    // The garbage device crashes its fsm until its intensity is spent; the
    // quarantine is written to device_state with attempt, until and reason.
    ASSERT_TRUE(eventually([&] { return !quarantine_row().empty(); }, 60s));
    const auto row = quarantine_row().front();
    EXPECT_EQ(row[0], "1");
    EXPECT_GT(std::stoll(row[1]), now_ms());
    EXPECT_NE(row[2].find("device subtree ended"), std::string::npos) << row[2];
    EXPECT_EQ(seen(port).quarantined, 1);
    daemon.signal_and_wait(SIGKILL, 10s);
  }
  // While no daemon runs, the recorded quarantine is moved to 15 s from now,
  // so that the test sees both sides of its end.
  const std::int64_t until = now_ms() + 15'000;
  sql_rows(db, "UPDATE device_state SET quarantine_until_ms = " + std::to_string(until) + " WHERE device_id = 'bad'",
           true);
  ASSERT_EQ(std::stoll(quarantine_row().front()[1]), until);

  ChildProcess daemon(EDGEPOLL_BIN, args);
  const auto port = daemon_health_port(daemon);
  ASSERT_NE(port, 0);
  const int requests_at_boot = requests_to(sim_port, "bad");
  // Before its time: quarantined in /tree, no subtree, not one request.
  ASSERT_TRUE(eventually([&] { return seen(port).quarantined == 1; }, 10s));
  while (now_ms() < until - 1500) {
    const auto s = seen(port);
    ASSERT_EQ(s.quarantined, 1);
    ASSERT_FALSE(s.bad_running);
    ASSERT_EQ(requests_to(sim_port, "bad"), requests_at_boot);
    std::this_thread::sleep_for(250ms);
  }
  EXPECT_GT(requests_to(sim_port, "good"), 0);
  // After it: retried (requests again), and when it is quarantined again its
  // backoff goes on from the recorded attempt.
  ASSERT_TRUE(eventually([&] { return requests_to(sim_port, "bad") > requests_at_boot; }, 20s));
  EXPECT_GE(now_ms(), until - 1000);
  ASSERT_TRUE(eventually(
      [&] {
        auto r = quarantine_row();
        return !r.empty() && r.front()[0] == "2";
      },
      60s));
  EXPECT_EQ(daemon.signal_and_wait(SIGTERM, 30s), 0);
}

}  // namespace
}  // namespace edgepoll
