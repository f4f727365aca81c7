// /ready, /health, the systemd notify messages and the prerequisites, on the
// real daemon with real peers: the Kafka sandbox, the device simulator, a
// tmpfs that fills up, and a unix datagram socket in systemd's place.
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <map>
#include <set>

#include "health_support.hpp"

namespace edgepoll {
namespace {
using namespace std::chrono_literals;
using namespace system_test;
using testing::ChildProcess;
using testing::HttpResult;
using testing::http_get;

struct Ready {
  int status = 0;
  nlohmann::json body;
  bool check_ok(const char* name) const { return body.is_object() && body["checks"][name]["ok"].get<bool>(); }
};
Ready ready(unsigned short port) {
  Ready r;
  r.body = get_json_any_status(port, "/ready", &r.status);
  return r;
}

std::vector<std::string> ids(const std::string& prefix, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

std::int64_t outbox_rows(const fs::path& db) { return query_count(db, "SELECT count(*) FROM outbox"); }

// Every record in a topic, as its reading-id header, read with kcat.
std::vector<std::string> reading_ids(const std::string& bootstrap, const std::string& topic) {
  const std::string cmd = "kcat -C -b '" + bootstrap + "' -t " + topic + " -e -q -f '%h\\n' 2>/dev/null";
  std::vector<std::string> out;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char line[1024];
    while (fgets(line, sizeof line, p)) {
      std::string l(line, strcspn(line, "\n"));
      const auto at = l.find("reading-id=");
      if (at != std::string::npos) out.push_back(l.substr(at + 11, l.find(',', at) - at - 11));
    }
    pclose(p);
  }
  return out;
}

TEST(Readiness, EveryBrokerDownFailsKafkaWithinItsThresholdReadingsKeepComingNothingIsLost) {
  TempDir dir;
  ChildProcess kafka(KAFKA_SANDBOX_BIN, {"--brokers", "3", "--topic", "edgepoll.readings:4", "--stdin-commands"},
                     /*pipe_stdin=*/true);
  const std::string bootstrap = start_kafka(kafka);
  ChildProcess sim(DEVICE_SIM_BIN, {"--listen", "127.0.0.1:0"});
  const std::string address = start_sim(sim);
  const fs::path db = dir.path / "edgepoll.db", config = dir.path / "edgepoll.toml";
  write_health_config(config, db, address, ids("o-", 10),
               "[health]\nport = 0\nkafka_unacked_max = \"4s\"\n\n[kafka]\nbootstrap_servers = \"" + bootstrap +
                   "\"\ndefault_topic = \"edgepoll.readings\"\nproperties = { \"reconnect.backoff.max.ms\" = \"200\" }\n");
  ChildProcess daemon(EDGEPOLL_BIN, {"--config", config.string()});
  const auto port = health_port(daemon);
  ASSERT_NE(port, 0);
  ASSERT_TRUE(eventually([&] { return ready(port).status == 200; }, 30s)) << ready(port).body.dump();

  ASSERT_TRUE(kafka.write_line("down all"));
  const auto down_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(eventually([&] { return !ready(port).check_ok("kafka"); }, 30s));
  const auto noticed = std::chrono::steady_clock::now() - down_at;
  // The threshold (4 s), one storage sample (1 s) and the poll interval (1 s), with room for a loaded machine.
  EXPECT_LE(noticed, 10s);
  const auto r = ready(port);
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body["reason"].get<std::string>().find("kafka: oldest unacknowledged reading"), std::string::npos)
      << r.body.dump();
  EXPECT_GE(r.body["checks"]["kafka"]["oldest_unacked_age_s"].get<int>(), 4);  // whole seconds of > 4 s
  EXPECT_TRUE(r.check_ok("devices")) << r.body.dump();  // polling goes on
  EXPECT_TRUE(r.check_ok("storage")) << r.body.dump();
  const auto during = outbox_rows(db);
  EXPECT_TRUE(eventually([&] { return outbox_rows(db) >= during + 30; }, 20s)) << "readings stopped accumulating";

  ASSERT_TRUE(kafka.write_line("up all"));
  EXPECT_TRUE(eventually([&] { return ready(port).status == 200; }, 60s)) << ready(port).body.dump();
  EXPECT_TRUE(eventually([&] { return outbox_rows(db) < 30; }, 60s)) << outbox_rows(db) << " rows left";
  EXPECT_EQ(daemon.signal_and_wait(SIGTERM, 30s), 0);

  // Every sequence number ever handed out is in Kafka or still in the outbox.
  std::set<std::string> delivered;
  for (auto& id : reading_ids(bootstrap, "edgepoll.readings")) delivered.insert(std::move(id));
  for (const auto& row : query(db, "SELECT device_id, seq FROM outbox")) delivered.insert(row[0] + ":" + row[1]);
  std::size_t expected = 0, lost = 0;
  for (const auto& row : query(db, "SELECT device_id, last_seq FROM device_state")) {
    for (std::int64_t seq = 1; seq <= std::stoll(row[1]); ++seq) {
      ++expected;
      if (!delivered.count(row[0] + ":" + std::to_string(seq))) ++lost;
    }
  }
  EXPECT_GE(expected, 50u);
  EXPECT_EQ(lost, 0u) << "of " << expected;
}

TEST(Readiness, AllDevicesQuarantinedFailsTheDevicesCheck) {
  TempDir dir;
  ChildProcess sim(DEVICE_SIM_BIN, {"--listen", "127.0.0.1:0", "--device", "bad-*=garbage"});
  const std::string address = start_sim(sim);
  const fs::path db = dir.path / "edgepoll.db", config = dir.path / "edgepoll.toml";
  write_health_config(config, db, address, ids("bad-", 3), "[health]\nport = 0\n");
  ChildProcess daemon(EDGEPOLL_BIN, {"--config", config.string()});
  const auto port = health_port(daemon);
  ASSERT_NE(port, 0);
  Ready r;
  EXPECT_TRUE(eventually([&] {
    r = ready(port);
    return r.body.is_object() && r.body["checks"]["devices"]["quarantined"] == 3;
  }, 90s)) << r.body.dump();
  EXPECT_EQ(r.status, 503);
  EXPECT_FALSE(r.check_ok("devices"));
  EXPECT_EQ(r.body["checks"]["devices"]["polling"], 0);
  EXPECT_EQ(r.body["checks"]["devices"]["enabled"], 3);
  EXPECT_NE(r.body["reason"].get<std::string>().find("devices: 0 of 3 enabled devices"), std::string::npos);
  EXPECT_TRUE(r.check_ok("storage") && r.check_ok("tree") && r.check_ok("kafka")) << r.body.dump();
  // The gauges follow within the metrics worker's second.
  std::string metrics;
  EXPECT_TRUE(eventually([&] {
    metrics = http_get("127.0.0.1", port, "/metrics").body;
    return metrics.find("edgepoll_devices{state=\"quarantined\"} 3") != std::string::npos;
  }, 10s)) << metrics.substr(metrics.find("edgepoll_devices"), 400);
  EXPECT_EQ(daemon.signal_and_wait(SIGTERM, 30s), 0);
}

// A small tmpfs for the state directory, unmounted at the end.
struct SmallDisk {
  explicit SmallDisk(const fs::path& at) : path(at) {
    fs::create_directories(at);
    mounted = ::mount("tmpfs", at.c_str(), "tmpfs", 0, "size=4m") == 0;
  }
  ~SmallDisk() {
    if (mounted) ::umount2(path.c_str(), MNT_DETACH);
  }
  // Writes a file until the filesystem is full.
  void fill(const fs::path& file) {
    std::ofstream out(file, std::ios::binary | std::ios::app);
    const std::string block(64 * 1024, 'x');
    while (out.write(block.data(), static_cast<std::streamsize>(block.size())) && out.flush()) {
    }
  }
  fs::path path;
  bool mounted = false;
};

TEST(Readiness, AFullDiskFailsStorageAndItRecoversWhenSpaceReturns) {
  TempDir dir;
  SmallDisk disk(dir.path / "state");
  ASSERT_TRUE(disk.mounted) << "mounting a tmpfs needs root (the tests run as root)";
  ChildProcess sim(DEVICE_SIM_BIN, {"--listen", "127.0.0.1:0"});
  const std::string address = start_sim(sim);
  const fs::path db = disk.path / "edgepoll.db", config = dir.path / "edgepoll.toml";
  write_health_config(config, db, address, ids("d-", 20),
               "min_free_bytes = 0\n\n[health]\nport = 0\nstorage_error_max = \"1s\"\n");
  ChildProcess daemon(EDGEPOLL_BIN, {"--config", config.string()});
  const auto port = health_port(daemon);
  ASSERT_NE(port, 0);
  ASSERT_TRUE(eventually([&] { return ready(port).status == 200; }, 30s)) << ready(port).body.dump();

  const fs::path filler = disk.path / "filler";
  Ready r;
  EXPECT_TRUE(eventually([&] {
    disk.fill(filler);  // again and again: SQLite frees and reuses pages
    r = ready(port);
    return !r.check_ok("storage");
  }, 60s)) << r.body.dump();
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body["checks"]["storage"]["error"].get<std::string>().find("disk_full"), std::string::npos)
      << r.body.dump();

  fs::remove(filler);
  EXPECT_TRUE(eventually([&] { return ready(port).status == 200; }, 30s)) << ready(port).body.dump();
  EXPECT_EQ(daemon.signal_and_wait(SIGTERM, 30s), 0);
}

TEST(Prerequisites, TooLittleFreeSpaceIsRefusedNamingThePathAndTheNumbers) {
  TempDir dir;
  const fs::path config = dir.path / "edgepoll.toml";
  std::ofstream(config) << "[storage]\npath = \"" << (dir.path / "edgepoll.db").string()
                        << "\"\nmin_free_bytes = 9223372036854775807\n[health]\nport = 0\n";
  ChildProcess check(EDGEPOLL_BIN, {"--config", config.string(), "--check-config"});
  EXPECT_EQ(check.signal_and_wait(0, 10s), 1);
  EXPECT_TRUE(check.wait_for_line([&](const std::string& l) {
    return l.find("prerequisite free_space: REFUSED") != std::string::npos &&
           l.find(dir.path.string()) != std::string::npos &&
           l.find("min_free_bytes = 9223372036854775807") != std::string::npos;
  }, 5s));
  ChildProcess daemon(EDGEPOLL_BIN, {"--config", config.string()});
  EXPECT_EQ(daemon.signal_and_wait(0, 20s), 1);
  // The output reader may still be collecting after the exit: wait for the line.
  EXPECT_TRUE(daemon.wait_for_line([&](const std::string& l) {
    return l.find("state directory " + dir.path.string() + " has ") != std::string::npos &&
           l.find("bytes free, below [storage] min_free_bytes = 9223372036854775807") != std::string::npos;
  }, 5s));
  EXPECT_TRUE(daemon.wait_for_line([](const std::string& l) {
    return l.find("did not start") != std::string::npos && l.find("prerequisites") != std::string::npos;
  }, 5s));
}

TEST(Prerequisites, CheckConfigReportsEachCheckThatNeedsNoDatabaseLock) {
  TempDir dir;
  const fs::path config = dir.path / "edgepoll.toml";
  std::ofstream(config) << "[storage]\npath = \"" << (dir.path / "edgepoll.db").string() << "\"\nmin_free_bytes = 1\n";
  ChildProcess check(EDGEPOLL_BIN, {"--config", config.string(), "--check-config"});
  EXPECT_EQ(check.signal_and_wait(0, 10s), 0);
  ASSERT_TRUE(check.wait_for_line([](const std::string& l) { return l.rfind("prerequisite free_space", 0) == 0; }, 5s));
  std::set<std::string> ok;
  for (const auto& l : check.lines())
    if (l.rfind("prerequisite ", 0) == 0 && l.find(": ok, ") != std::string::npos) ok.insert(l.substr(13, l.find(':') - 13));
  EXPECT_EQ(ok, (std::set<std::string>{"state_dir", "free_space"}));
  EXPECT_FALSE(fs::exists(dir.path / "edgepoll.db"));  // the store is not touched
}

TEST(Notify, AWedgedWriterStopsTheWatchdogAndStatusFollowsTheState) {
  TempDir dir;
  ChildProcess sim(DEVICE_SIM_BIN, {"--listen", "127.0.0.1:0"});
  const std::string address = start_sim(sim);
  const fs::path db = dir.path / "edgepoll.db", config = dir.path / "edgepoll.toml", hooks = dir.path / "hooks";
  write_health_config(config, db, address, ids("w-", 3), "[health]\nport = 0\n");
  NotifySocket notify(dir.path / "notify.sock", std::chrono::seconds(4));
  setenv("EDGEPOLL_TEST_HOOKS", hooks.c_str(), 1);
  ChildProcess daemon(EDGEPOLL_BIN, {"--config", config.string()});
  unsetenv("EDGEPOLL_TEST_HOOKS");
  ASSERT_NE(health_port(daemon), 0);
  ASSERT_TRUE(eventually([&] { return notify.count("READY=1") == 1 && notify.count("WATCHDOG=1") >= 3; }, 30s));
  ASSERT_TRUE(eventually([&] { return !notify.starting_with("STATUS=polling 3/3 devices").empty(); }, 30s));

  test_hook(daemon, hooks, "wedge-writer");
  ASSERT_TRUE(daemon.wait_for_line([](const std::string& l) { return l.find("test hook: wedge-writer") != std::string::npos; }, 10s));
  const auto wedged_at = std::chrono::steady_clock::now();
  // Half of WATCHDOG_USEC without a heartbeat, then no more petting.
  EXPECT_TRUE(eventually([&] {
    const auto last = notify.last("WATCHDOG=1");
    return last && std::chrono::steady_clock::now() - *last > 4s;
  }, 20s));
  EXPECT_LE(*notify.last("WATCHDOG=1") - wedged_at, 3s);
  EXPECT_TRUE(daemon.wait_for_line([](const std::string& l) {
    return l.find("watchdog event=not_petting") != std::string::npos && l.find("storage writer") != std::string::npos;
  }, 1s));

  test_hook(daemon, hooks, "unwedge-writer");
  const auto released = std::chrono::steady_clock::now();
  EXPECT_TRUE(eventually([&] { return notify.last("WATCHDOG=1") > released; }, 10s));
  EXPECT_EQ(daemon.signal_and_wait(SIGTERM, 30s), 0);
  EXPECT_EQ(notify.count("STOPPING=1"), 1u);
  // STATUS= followed the state: devices coming up, the outbox growing.
  const auto statuses = notify.starting_with("STATUS=");
  EXPECT_GE(std::set<std::string>(statuses.begin(), statuses.end()).size(), 3u);
  EXPECT_EQ(statuses.front().rfind("STATUS=polling ", 0), 0u) << statuses.front();
}

TEST(Liveness, AStalledProcessIs503NamingItAndAStalledLoopDoesNotAnswerAProbe) {
  TempDir dir;
  ChildProcess sim(DEVICE_SIM_BIN, {"--listen", "127.0.0.1:0"});
  const std::string address = start_sim(sim);
  const fs::path db = dir.path / "edgepoll.db", config = dir.path / "edgepoll.toml", hooks = dir.path / "hooks";
  write_health_config(config, db, address, ids("l-", 3), "[health]\nport = 0\n");
  setenv("EDGEPOLL_TEST_HOOKS", hooks.c_str(), 1);
  ChildProcess daemon(EDGEPOLL_BIN, {"--config", config.string()});
  unsetenv("EDGEPOLL_TEST_HOOKS");
  const auto port = health_port(daemon);
  ASSERT_NE(port, 0);
  ASSERT_TRUE(eventually([&] { return http_get_within(port, "/health", 1s).status == 200; }, 20s));

  test_hook(daemon, hooks, "suspend root/edge");
  HttpResult h;
  EXPECT_TRUE(eventually([&] {
    h = http_get_within(port, "/health", 1s);
    return h.status == 503;
  }, 10s));
  const auto body = nlohmann::json::parse(h.body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << h.body;
  EXPECT_EQ(body["not_answering"], nlohmann::json::array({"root/edge"})) << h.body;
  test_hook(daemon, hooks, "resume root/edge");
  EXPECT_TRUE(eventually([&] { return http_get_within(port, "/health", 1s).status == 200; }, 10s));

  // The whole process stalled (its event loop with it): nothing answers within the probe's 1 s.
  ::kill(daemon.pid(), SIGSTOP);
  EXPECT_EQ(http_get_within(port, "/health", 1s).status, 0);
  ::kill(daemon.pid(), SIGCONT);
  EXPECT_TRUE(eventually([&] { return http_get_within(port, "/health", 1s).status == 200; }, 10s));
  EXPECT_EQ(daemon.signal_and_wait(SIGTERM, 30s), 0);
}

TEST(Liveness, ATopLevelSubtreeDownOrTheRootNotAnsweringIs503NamingIt) {
  TempDir dir;
  ChildProcess sim(DEVICE_SIM_BIN, {"--listen", "127.0.0.1:0"});
  const std::string address = start_sim(sim);
  const fs::path db = dir.path / "edgepoll.db", config = dir.path / "edgepoll.toml", hooks = dir.path / "hooks";
  write_health_config(config, db, address, ids("t-", 3), "[health]\nport = 0\n");
  setenv("EDGEPOLL_TEST_HOOKS", hooks.c_str(), 1);
  ChildProcess daemon(EDGEPOLL_BIN, {"--config", config.string()});
  unsetenv("EDGEPOLL_TEST_HOOKS");
  const auto port = health_port(daemon);
  ASSERT_NE(port, 0);
  ASSERT_TRUE(eventually([&] { return http_get_within(port, "/health", 1s).status == 200; }, 20s));

  // deps stopped by its supervisor and left down: not running, named.
  test_hook(daemon, hooks, "terminate root/deps");
  HttpResult h;
  EXPECT_TRUE(eventually([&] {
    h = http_get_within(port, "/health", 1s);
    return h.status == 503;
  }, 10s)) << h.body;
  auto body = nlohmann::json::parse(h.body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << h.body;
  EXPECT_EQ(body["alive"], false);
  EXPECT_EQ(body["not_running"], nlohmann::json::array({"root/deps"})) << h.body;
  EXPECT_FALSE(body.contains("not_answering")) << h.body;
  // /ready agrees: deps is one of the subtrees it requires.
  EXPECT_FALSE(ready(port).check_ok("tree")) << ready(port).body.dump();
  test_hook(daemon, hooks, "restart root/deps");
  EXPECT_TRUE(eventually([&] { return http_get_within(port, "/health", 1s).status == 200; }, 10s));

  // The root's own mailbox round trip failing: the root is named.
  test_hook(daemon, hooks, "suspend root");
  EXPECT_TRUE(eventually([&] {
    h = http_get_within(port, "/health", 1s);
    return h.status == 503;
  }, 10s)) << h.body;
  body = nlohmann::json::parse(h.body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << h.body;
  EXPECT_EQ(body["not_answering"], nlohmann::json::array({"root"})) << h.body;
  EXPECT_FALSE(body.contains("not_running")) << h.body;
  test_hook(daemon, hooks, "resume root");
  EXPECT_TRUE(eventually([&] { return http_get_within(port, "/health", 1s).status == 200; }, 10s));
  EXPECT_EQ(daemon.signal_and_wait(SIGTERM, 30s), 0);
}

// /metrics is the metrics worker's registry: gone while the worker is down,
// back when it restarts, its totals carried on from the subsystems' counters.
TEST(Metrics, AreServedByTheMetricsWorkerAndItsRestartCarriesTheTotalsOn) {
  TempDir dir;
  ChildProcess sim(DEVICE_SIM_BIN, {"--listen", "127.0.0.1:0"});
  const std::string address = start_sim(sim);
  const fs::path db = dir.path / "edgepoll.db", config = dir.path / "edgepoll.toml", hooks = dir.path / "hooks";
  write_health_config(config, db, address, ids("m-", 3), "[health]\nport = 0\n");
  setenv("EDGEPOLL_TEST_HOOKS", hooks.c_str(), 1);
  ChildProcess daemon(EDGEPOLL_BIN, {"--config", config.string()});
  unsetenv("EDGEPOLL_TEST_HOOKS");
  const auto port = health_port(daemon);
  ASSERT_NE(port, 0);
  ASSERT_TRUE(eventually([&] { return metric(port, "edgepoll_polls_total") >= 3; }, 20s));

  test_hook(daemon, hooks, "terminate root/deps/metrics");
  HttpResult m;
  EXPECT_TRUE(eventually([&] {
    m = http_get("127.0.0.1", port, "/metrics");
    return m.status == 503;
  }, 10s)) << m.status << " " << m.body.substr(0, 200);
  EXPECT_NE(m.body.find("root/deps/metrics"), std::string::npos) << m.body;
  const double polls_before = metric(port, "edgepoll_polls_total");  // -1: no page
  EXPECT_EQ(polls_before, -1);
  // Polling goes on without it.
  const auto rows = query_count(db, "SELECT count(*) FROM outbox");
  EXPECT_TRUE(eventually([&] { return query_count(db, "SELECT count(*) FROM outbox") > rows; }, 10s));

  test_hook(daemon, hooks, "restart root/deps/metrics");
  EXPECT_TRUE(eventually([&] { return http_get("127.0.0.1", port, "/metrics").status == 200; }, 10s));
  // The new registry starts from the counts so far: every poll of the whole run, the supervision events too.
  EXPECT_GE(metric(port, "edgepoll_polls_total"), static_cast<double>(rows));
  EXPECT_GE(metric(port, "edgepoll_supervision_events_total{event=\"child_started\"}"), 10);
  EXPECT_NE(http_get("127.0.0.1", port, "/metrics").body.find("\nedgepoll_build_info{version="), std::string::npos);
  EXPECT_EQ(daemon.signal_and_wait(SIGTERM, 30s), 0);
}

TEST(TestHooks, AreRefusedUnderSystemd) {
  TempDir dir;
  const fs::path config = dir.path / "edgepoll.toml";
  std::ofstream(config) << "[storage]\npath = \"" << (dir.path / "edgepoll.db").string() << "\"\n[health]\nport = 0\n";
  setenv("EDGEPOLL_TEST_HOOKS", (dir.path / "hooks").c_str(), 1);
  setenv("INVOCATION_ID", "0123456789abcdef", 1);
  ChildProcess daemon(EDGEPOLL_BIN, {"--config", config.string()});
  unsetenv("EDGEPOLL_TEST_HOOKS");
  unsetenv("INVOCATION_ID");
  EXPECT_EQ(daemon.signal_and_wait(0, 10s), 2);
  EXPECT_TRUE(daemon.wait_for_line(
      [](const std::string& l) { return l.find("fault injection is for tests only") != std::string::npos; }, 5s));
}

}  // namespace
}  // namespace edgepoll
