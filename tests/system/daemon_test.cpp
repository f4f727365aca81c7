// The edgepoll daemon against the device simulator over real sockets, with a
// real SQLite store, checked through its own /tree and the database.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>

#include "support/child_process.hpp"
#include "support/http_get.hpp"

namespace edgepoll {
namespace {
using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::http_get;
namespace fs = std::filesystem;

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/edgepoll-system-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
  fs::path path;
};

std::string start_sim(ChildProcess& sim) {
  auto line = sim.wait_for_line([](const std::string& l) { return l.rfind("listening=", 0) == 0; }, 10s);
  if (!line) throw std::runtime_error("device-sim did not start");
  return line->substr(10);
}

unsigned short health_port(ChildProcess& daemon) {
  static const std::regex re("listening on http://127\\.0\\.0\\.1:(\\d+)/");
  std::smatch m;
  auto line = daemon.wait_for_line([&](const std::string& l) { return std::regex_search(l, m, re); }, 20s);
  if (!line) return 0;
  std::regex_search(*line, m, re);
  return static_cast<unsigned short>(std::stoi(m[1]));
}

nlohmann::json get_json(unsigned short port, const std::string& target) {
  auto r = http_get("127.0.0.1", port, target);
  return r.status == 200 ? nlohmann::json::parse(r.body, nullptr, false) : nlohmann::json();
}

const nlohmann::json* child(const nlohmann::json& node, const std::string& id) {
  if (!node.contains("children")) return nullptr;
  for (const auto& c : node["children"]) {
    if (c.value("id", "") == id) return &c;
  }
  return nullptr;
}

// Devices with at least `min` stored readings, read from the store while the daemon runs (WAL).
std::set<std::string> devices_with_readings(const fs::path& db, int min) {
  std::set<std::string> out;
  sqlite3* h = nullptr;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return out;
  sqlite3_busy_timeout(h, 2000);
  sqlite3_stmt* st = nullptr;
  const std::string sql = "SELECT device_id FROM outbox GROUP BY device_id HAVING count(*) >= " + std::to_string(min);
  if (sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr) == SQLITE_OK) {
    while (sqlite3_step(st) == SQLITE_ROW) out.insert(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
  }
  sqlite3_finalize(st);
  sqlite3_close(h);
  return out;
}

void write_config(const fs::path& file, const fs::path& db, const std::string& sim, const std::vector<std::string>& ids) {
  std::ofstream out(file);
  out << "[storage]\npath = \"" << db.string() << "\"\n\n[health]\nport = 0\n\n"
      << "[pollers]\nbackoff_base = \"60s\"\nbackoff_cap = \"1h\"\n\n";
  for (const auto& id : ids) {
    out << "[[device]]\nid = \"" << id << "\"\nurl = \"http://" << sim << "/devices/" << id << "\"\n"
        << "interval = \"1s\"\ntimeout = \"500ms\"\n"
        << "metrics = [ { pointer = \"/temperature\", name = \"temperature\", type = \"float\", unit = \"degC\" } ]\n\n";
  }
}

TEST(Daemon, TwoHundredDevicesTenBadTheGoodOnesReportTheBadOnesAreQuarantinedAlone) {
  TempDir dir;
  ChildProcess sim(DEVICE_SIM_BIN, {"--listen", "127.0.0.1:0", "--device", "garbage-*=garbage", "--device",
                                    "hang-*=hang", "--device", "reset-*=reset"});
  const std::string address = start_sim(sim);
  std::vector<std::string> ids;
  for (int i = 0; i < 190; ++i) ids.push_back("good-" + std::to_string(i));
  for (int i = 0; i < 4; ++i) ids.push_back("garbage-" + std::to_string(i));
  for (int i = 0; i < 3; ++i) ids.push_back("hang-" + std::to_string(i));
  for (int i = 0; i < 3; ++i) ids.push_back("reset-" + std::to_string(i));
  const fs::path db = dir.path / "edgepoll.db";
  write_config(dir.path / "edgepoll.toml", db, address, ids);

  ChildProcess daemon(EDGEPOLL_BIN, {"--config", (dir.path / "edgepoll.toml").string()});
  const auto port = health_port(daemon);
  ASSERT_NE(port, 0) << "the daemon did not start its health endpoint";
  const auto first = get_json(port, "/tree");
  const auto* edge = child(first, "edge");
  ASSERT_TRUE(edge);
  const auto pollers_pid = (*child(*edge, "pollers"))["pid"];

  // The bad devices exhaust their own intensity and are quarantined, one by one.
  nlohmann::json tree;
  const auto deadline = std::chrono::steady_clock::now() + 90s;
  while (std::chrono::steady_clock::now() < deadline) {
    tree = get_json(port, "/tree");
    const auto* manager = child(*child(tree, "edge"), "config_manager");
    if (manager && (*manager)["devices_quarantined"] == 10) break;
  }
  const auto* manager = child(*child(tree, "edge"), "config_manager");
  ASSERT_TRUE(manager);
  EXPECT_EQ((*manager)["devices_quarantined"], 10) << tree.dump(1);
  EXPECT_EQ((*manager)["devices_running"], 190);

  // Every good device has been reporting at its interval meanwhile.
  std::set<std::string> reporting;
  const auto deadline2 = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline2 && reporting.size() < 190) {
    reporting = devices_with_readings(db, 3);
  }
  EXPECT_EQ(reporting.size(), 190u);
  for (const auto& id : reporting) EXPECT_EQ(id.rfind("good-", 0), 0u) << id;

  // pollers never restarted; neither did edge nor the root.
  const auto* pollers = child(*child(tree, "edge"), "pollers");
  EXPECT_EQ((*pollers)["pid"], pollers_pid);
  EXPECT_EQ((*pollers)["restarts_in_window"], 0);
  EXPECT_EQ((*child(tree, "edge"))["restarts_in_window"], 0);
  EXPECT_EQ(tree["restarts_in_window"], 0);
  EXPECT_TRUE(sim.running());

  EXPECT_EQ(daemon.signal_and_wait(SIGTERM, 30s), 0);
}

TEST(Daemon, AnUnknownConfigKeyIsRefusedNamingTheFileAndKey) {
  TempDir dir;
  const fs::path config = dir.path / "edgepoll.toml";
  std::ofstream(config) << "[storage]\npath = \"" << (dir.path / "x.db").string() << "\"\nsynchronus = \"full\"\n";
  ChildProcess daemon(EDGEPOLL_BIN, {"--config", config.string()});
  auto line = daemon.wait_for_line([](const std::string& l) { return l.find("unknown key") != std::string::npos; }, 10s);
  ASSERT_TRUE(line);
  EXPECT_NE(line->find(config.string()), std::string::npos) << *line;
  EXPECT_NE(line->find("synchronus"), std::string::npos) << *line;
  EXPECT_EQ(daemon.signal_and_wait(0, 10s), 2);
}

TEST(Daemon, ACorruptStoreIsRefusedAtBootAndLeftUnchanged) {
  TempDir dir;
  const fs::path db = dir.path / "edgepoll.db";
  std::ofstream(db) << "this is not a database, but somebody's precious file";
  const auto before = fs::file_size(db);
  const fs::path config = dir.path / "edgepoll.toml";
  std::ofstream(config) << "[storage]\npath = \"" << db.string() << "\"\n[health]\nport = 0\n";
  ChildProcess daemon(EDGEPOLL_BIN, {"--config", config.string()});
  EXPECT_EQ(daemon.signal_and_wait(0, 20s), 1);
  bool named = false;
  for (const auto& l : daemon.lines()) named = named || (l.find("did not start") != std::string::npos &&
                                                         l.find("prerequisites") != std::string::npos);
  EXPECT_TRUE(named);
  bool explained = false;
  for (const auto& l : daemon.lines()) explained = explained || l.find(db.string()) != std::string::npos;
  EXPECT_TRUE(explained);
  EXPECT_EQ(fs::file_size(db), before);
}

}  // namespace
}  // namespace edgepoll
