// Registration in etcd end to end: the real daemon, a real etcd and the device
// simulator, each a process of its own on loopback.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>

#include "edgepoll/version.hpp"
#include "support/child_process.hpp"
#include "support/etcd_server.hpp"
#include "support/http_get.hpp"
#include "support/wait_for.hpp"

namespace edgepoll {
namespace {
using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::etcd_get;
using testing::EtcdServer;
using testing::http_get;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/edgepoll-registration-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
  fs::path path;
};

std::string first_line_after(ChildProcess& p, const std::string& prefix,
                             std::chrono::milliseconds limit) {
  auto line = p.wait_for_line([&](const std::string& l) { return l.rfind(prefix, 0) == 0; }, limit);
  if (!line) throw std::runtime_error("no line starting with " + prefix);
  return line->substr(prefix.size());
}

unsigned short health_port(ChildProcess& daemon) {
  static const std::regex re("listening on http://127\\.0\\.0\\.1:(\\d+)/");
  std::smatch m;
  auto line =
      daemon.wait_for_line([&](const std::string& l) { return std::regex_search(l, m, re); }, 20s);
  if (!line || !std::regex_search(*line, m, re)) return 0;
  return static_cast<unsigned short>(std::stoi(m[1]));
}

// One series' value from /metrics; -1 when absent.
double metric(unsigned short port, const std::string& series) {
  const auto text = http_get("127.0.0.1", port, "/metrics").body;
  const auto at = text.find("\n" + series + " ");
  return at == std::string::npos ? -1 : std::stod(text.substr(at + series.size() + 2));
}

// Lines of the daemon's log that mention `event`.
std::size_t log_count(ChildProcess& daemon, const std::string& event) {
  std::size_t n = 0;
  for (const auto& l : daemon.lines()) n += l.find(event) != std::string::npos;
  return n;
}

// (device, ts_ms) of every stored reading, by device, in sequence order.
std::map<std::string, std::vector<std::int64_t>> reading_times(const fs::path& db) {
  std::map<std::string, std::vector<std::int64_t>> out;
  sqlite3* h = nullptr;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(h, 2000);
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(h, "SELECT device_id, ts_ms FROM outbox ORDER BY device_id, seq", -1,
                           &st, nullptr) == SQLITE_OK) {
      while (sqlite3_step(st) == SQLITE_ROW)
        out[reinterpret_cast<const char*>(sqlite3_column_text(st, 0))].push_back(
            sqlite3_column_int64(st, 1));
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(h);
  return out;
}

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit, std::chrono::milliseconds step = 50ms) {
  return testing::wait_for(std::move(pred), limit, step);
}

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What a test adds to the daemon's config: lines inside [health] and
// [registration], more sections, and devices beside dev-0..dev-N.
struct RigOptions {
  int devices = 5;
  std::vector<std::string> more_devices;  // served as the simulator's `sim_devices` say
  std::vector<std::string> sim_devices;   // device-sim --device specs, e.g. "bad-*=garbage"
  std::string health, registration, sections;
};

struct Rig {
  explicit Rig(RigOptions o = {}) : sim(DEVICE_SIM_BIN, sim_args(o)) {
    sim_address = first_line_after(sim, "listening=", 10s);
    std::ofstream out(config);
    out << "[node]\nid = \"node-7\"\n\n[storage]\npath = \"" << db.string()
        << "\"\n\n[health]\nport = 0\n"
        << o.health << "\n[pollers]\nbackoff_base = \"3s\"\nbackoff_cap = \"3s\"\n\n"
        << "[registration]\nendpoints = [\"" << etcd.endpoint()
        << "\"]\nprefix = \"/sys\"\nttl = \"" << ttl.count() << "s\"\n"
        << o.registration << "\n"
        << o.sections;
    std::vector<std::string> ids = o.more_devices;
    for (int i = 0; i < o.devices; ++i) ids.push_back("dev-" + std::to_string(i));
    for (const auto& id : ids) {
      out << "[[device]]\nid = \"" << id << "\"\nurl = \"http://" << sim_address << "/devices/"
          << id << "\"\n"
          << "interval = \"1s\"\ntimeout = \"500ms\"\n"
          << "metrics = [ { pointer = \"/temperature\", name = \"temperature\", type = \"float\" } "
             "]\n\n";
    }
  }
  static std::vector<std::string> sim_args(const RigOptions& o) {
    std::vector<std::string> args{"--listen", "127.0.0.1:0"};
    for (const auto& d : o.sim_devices) args.insert(args.end(), {"--device", d});
    return args;
  }
  std::unique_ptr<ChildProcess> start_daemon() {
    auto d = std::make_unique<ChildProcess>(EDGEPOLL_BIN,
                                            std::vector<std::string>{"--config", config.string()});
    port = health_port(*d);
    return d;
  }
  std::optional<std::string> key() { return etcd_get(etcd.endpoint(), "/sys/nodes/node-7"); }

  static constexpr std::chrono::seconds ttl{3};
  TempDir dir;
  EtcdServer etcd;
  ChildProcess sim;
  std::string sim_address;
  fs::path db = dir.path / "edgepoll.db";
  fs::path config = dir.path / "edgepoll.toml";
  unsigned short port = 0;
};

TEST(Registration,
     TheNodeIsRegisteredWithItsValueAndKeptAliveAndKillNineLetsTheKeyExpireWithinTtlPlusOneSecond) {
  Rig s;
  auto daemon = s.start_daemon();
  ASSERT_NE(s.port, 0);
  // Registered as soon as the device subtrees run (the count is in the value).
  ASSERT_TRUE(eventually(
      [&] {
        auto v = s.key();
        return v && nlohmann::json::parse(*v, nullptr, false).value("devices", 0) == 5;
      },
      15s))
      << s.key().value_or("(no key)");
  const auto v = nlohmann::json::parse(*s.key());
  const std::string address = "127.0.0.1:" + std::to_string(s.port);
  EXPECT_EQ(v["id"], "node-7");
  EXPECT_EQ(v["address"], address);
  EXPECT_EQ(v["health_url"], "http://" + address + "/health");
  EXPECT_EQ(v["version"], std::string(edgepoll::kVersion));
  // The health URL it advertises answers.
  EXPECT_EQ(http_get("127.0.0.1", s.port, "/health").status, 200);

  // Kept alive: still there after twice its TTL.
  const auto until = Clock::now() + 2 * Rig::ttl;
  while (Clock::now() < until) {
    ASSERT_TRUE(s.key()) << "the key vanished while the daemon ran";
    std::this_thread::sleep_for(200ms);  // sampling the key while time passes
  }
  EXPECT_EQ(metric(s.port, "edgepoll_registration_changes_total{state=\"registered\"}"), 1);

  daemon->signal_and_wait(SIGKILL, 5s);
  const auto killed = Clock::now();
  ASSERT_TRUE(eventually([&] { return !s.key(); }, Rig::ttl + 1s, 20ms))
      << "the key outlived the lease";
  EXPECT_LE(Clock::now() - killed, Rig::ttl + 1s);
}

TEST(Registration, EtcdStoppedAndStartedPollingNeverMissesATickAndTheNodeRegistersAgain) {
  RigOptions o;
  o.devices = 20;
  Rig s(o);
  auto daemon = s.start_daemon();
  ASSERT_TRUE(eventually([&] { return s.key().has_value(); }, 15s));
  ASSERT_TRUE(eventually([&] { return reading_times(s.db).size() == 20; }, 15s));
  const double late_before = metric(s.port, "edgepoll_poll_ticks_skipped_total{kind=\"late\"}");

  const auto stopped_at = wall_ms();
  s.etcd.stop();
  ASSERT_TRUE(daemon->wait_for_line(
      [](const std::string& l) { return l.find("event=unreachable") != std::string::npos; }, 10s));
  // Down for longer than the lease: etcd must not matter to polling or to readiness.
  std::this_thread::sleep_for(2 *
                              Rig::ttl);  // the outage itself; what happens in it is checked below
  EXPECT_EQ(http_get("127.0.0.1", s.port, "/ready").status, 200);
  s.etcd.start();
  const auto started_at = wall_ms();
  ASSERT_TRUE(eventually([&] { return log_count(*daemon, "event=registered") >= 2; }, 15s))
      << "no second registration after etcd came back";
  ASSERT_TRUE(eventually([&] { return s.key().has_value(); }, 5s));
  // Every device polled again after the outage window, so that the window is closed on both sides.
  ASSERT_TRUE(eventually(
      [&] {
        for (const auto& [device, ts] : reading_times(s.db))
          if (ts.empty() || ts.back() <= started_at + 1000) return false;
        return true;
      },
      10s));

  // Every device has a reading at least every 1.5 intervals through the outage.
  const auto times = reading_times(s.db);
  ASSERT_EQ(times.size(), 20u);
  for (const auto& [device, ts] : times) {
    std::int64_t prev = 0;
    std::size_t in_outage = 0;
    for (auto t : ts) {
      if (t >= stopped_at - 1000 && t <= started_at + 1000) {
        ++in_outage;
        if (prev != 0) {
          EXPECT_LE(t - prev, 1500) << device << " missed a tick while etcd was down";
        }
      }
      prev = t;
    }
    EXPECT_GE(in_outage, static_cast<std::size_t>((started_at - stopped_at) / 1000)) << device;
  }
  EXPECT_EQ(metric(s.port, "edgepoll_poll_ticks_skipped_total{kind=\"late\"}"), late_before);
  EXPECT_GT(metric(s.port, "edgepoll_registration_etcd_errors_total"), 0);
}

// A watched subtree going down in the real daemon: here one device's subtree,
// the one this test can take down from outside (its device answers garbage for
// a while, so its subtree restarts, gives up and is quarantined). Watching a
// device is unusual; the Kafka outage path goes through readiness instead.
TEST(Registration, AWatchedSubtreeInTroubleDeregistersAtOnceAndRegistersAgainWhenItHasBeenFine) {
  RigOptions o;
  o.devices = 3;
  o.more_devices = {"bad-1"};
  o.sim_devices = {"bad-1=schedule:normal@3s,garbage@12s,normal@1h"};
  o.registration =
      "watch = [\"root/deps\", \"root/edge\", "
      "\"root/edge/pollers/device:bad-1\"]\nreregister_after = \"1s\"\n";
  Rig s(o);
  auto daemon = s.start_daemon();
  ASSERT_NE(s.port, 0);
  ASSERT_TRUE(eventually([&] { return s.key().has_value(); }, 15s));
  const auto line = daemon->wait_for_line(
      [](const std::string& l) {
        return l.find("event=deregistered") != std::string::npos &&
               l.find("root/edge/pollers/device:bad-1") != std::string::npos;
      },
      30s);
  ASSERT_TRUE(line) << "no deregistration naming the watched subtree";
  EXPECT_TRUE(line->find("restarted 3 times within 30 s") != std::string::npos ||
              line->find("is not running") != std::string::npos)
      << *line;
  EXPECT_FALSE(s.key()) << "deregistered, yet the key is still in etcd";
  // The device answers again; once its restarts are older than the 30 s window
  // and the node held fit for reregister_after, the key is back.
  EXPECT_TRUE(eventually([&] { return s.key().has_value(); }, 60s)) << "not registered again";
  // The worker logs once its put has answered: the key can be seen in etcd a
  // moment before the line reaches this test through the daemon's pipe.
  EXPECT_TRUE(eventually([&] { return log_count(*daemon, "event=registered") >= 2; }, 15s));
  EXPECT_EQ(log_count(*daemon, "event=registered"), 2u);
}

std::size_t outbox_rows(const fs::path& db) {
  std::size_t n = 0;
  for (const auto& [device, ts] : reading_times(db)) n += ts.size();
  return n;
}

// /ready's status and body.
std::pair<int, nlohmann::json> ready(unsigned short port) {
  const auto r = http_get("127.0.0.1", port, "/ready");
  return {r.status, nlohmann::json::parse(r.body, nullptr, false)};
}

std::string start_kafka(ChildProcess& kafka) { return first_line_after(kafka, "bootstrap=", 20s); }

// The Kafka outage path of registration: no subtree is in trouble, only
// readiness fails (its kafka check), and the worker follows readiness.
TEST(Registration, EveryBrokerDownMakesTheNodeNotReadyAndDeregistersItAndBrokersBackRegisterItAgain) {
  ChildProcess kafka(KAFKA_SANDBOX_BIN,
                     {"--brokers", "3", "--topic", "edgepoll.readings:4", "--stdin-commands"},
                     /*pipe_stdin=*/true);
  const std::string bootstrap = start_kafka(kafka);
  RigOptions o;
  o.devices = 5;
  o.health = "kafka_unacked_max = \"3s\"\n";
  o.registration = "deregister_after = \"1s\"\nreregister_after = \"2s\"\n";
  o.sections = "[kafka]\nbootstrap_servers = \"" + bootstrap +
               "\"\ndefault_topic = \"edgepoll.readings\"\n"
               "properties = { \"reconnect.backoff.max.ms\" = \"200\" }\n\n";
  Rig s(o);
  auto daemon = s.start_daemon();
  ASSERT_NE(s.port, 0);
  ASSERT_TRUE(eventually([&] { return ready(s.port).first == 200 && s.key().has_value(); }, 30s))
      << ready(s.port).second.dump() << " key: " << s.key().value_or("(none)");

  ASSERT_TRUE(kafka.write_line("down all"));
  const auto down_at = Clock::now();
  std::pair<int, nlohmann::json> r;
  ASSERT_TRUE(eventually(
      [&] {
        r = ready(s.port);
        return r.first == 503 && r.second.is_object() && !r.second["checks"]["kafka"]["ok"].get<bool>();
      },
      30s))
      << r.second.dump();
  EXPECT_TRUE(r.second["checks"]["devices"]["ok"].get<bool>()) << r.second.dump();  // polling goes on
  // Not ready for deregister_after (1 s): the key goes, the log and /ready say why.
  ASSERT_TRUE(eventually([&] { return !s.key(); }, 10s)) << "still registered while Kafka is down";
  // The threshold (3 s), a storage sample (1 s), deregister_after (1 s), a loaded machine.
  EXPECT_LE(Clock::now() - down_at, 15s);
  const auto line = daemon->wait_for_line(
      [](const std::string& l) {
        return l.find("event=deregistered") != std::string::npos &&
               l.find("kafka: oldest unacknowledged reading") != std::string::npos;
      },
      5s);
  EXPECT_TRUE(line) << "no deregistration naming the kafka check";
  r = ready(s.port);
  EXPECT_EQ(r.second["registration"]["state"], "deregistered") << r.second.dump();
  const auto during = outbox_rows(s.db);
  EXPECT_TRUE(eventually([&] { return outbox_rows(s.db) >= during + 10; }, 20s))
      << "readings stopped accumulating while Kafka was down";
  EXPECT_FALSE(s.key()) << "registered again while Kafka is still down";

  ASSERT_TRUE(kafka.write_line("up all"));
  EXPECT_TRUE(eventually([&] { return ready(s.port).first == 200; }, 60s)) << ready(s.port).second.dump();
  EXPECT_TRUE(eventually([&] { return s.key().has_value(); }, 20s)) << "not registered again";
  EXPECT_EQ(log_count(*daemon, "event=registered"), 2u);
  EXPECT_TRUE(eventually([&] { return outbox_rows(s.db) < 20; }, 60s))
      << outbox_rows(s.db) << " readings still waiting for Kafka";
  EXPECT_EQ(ready(s.port).second["registration"]["state"], "registered");
  EXPECT_EQ(metric(s.port, "edgepoll_registration_changes_total{state=\"deregistered\"}"), 1);
}

}  // namespace
}  // namespace edgepoll
