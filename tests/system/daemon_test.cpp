// The edgepoll daemon against the device simulator over real sockets, with a
// real SQLite store, checked through its own /tree and the database.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <map>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/child_process.hpp"
#include "support/http_get.hpp"
#include "system_support.hpp"

namespace edgepoll {
namespace {
using namespace std::chrono_literals;
using namespace system_test;

void write_config(const fs::path& file, const fs::path& db, const std::string& sim, const std::vector<std::string>& ids) {
  std::ofstream out(file);
  out << "[storage]\npath = \"" << db.string() << "\"\n\n[health]\nport = 0\n\n"
      << "[pollers]\nbackoff_base = \"10m\"\nbackoff_cap = \"1h\"\n\n";  // retries stay outside the test
  for (const auto& id : ids) {
    // A garbage device must fail by its bodies only: a timeout between two
    // undecodable bodies restarts their count (a loaded or sanitized daemon
    // answers late), and the breaker then holds the device instead of it being
    // quarantined, which the scale test below tells apart.
    const char* timeout = id.rfind("garbage-", 0) == 0 ? "5s" : "500ms";
    out << "[[device]]\nid = \"" << id << "\"\nurl = \"http://" << sim << "/devices/" << id << "\"\n"
        << "interval = \"1s\"\ntimeout = \"" << timeout << "\"\n"
        << "metrics = [ { pointer = \"/temperature\", name = \"temperature\", type = \"float\", unit = \"degC\" } ]\n\n";
  }
}

TEST(Daemon, TwoHundredDevicesTenBadTheGoodOnesReportTheBadOnesAreHeldOrQuarantinedAlone) {
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

  // The garbage devices crash their fsm until their intensity is exhausted and
  // are quarantined; the hanging and resetting ones are held by their breakers
  // (their skipped ticks counted), which is not a crash.
  const nlohmann::json tree = tree_once_quarantined(port, 4, 90s, [&] {
    return metric(port, "edgepoll_poll_ticks_skipped_total{kind=\"breaker_open\"}") > 0;
  });
  const auto* manager = child(*child(tree, "edge"), "config_manager");
  ASSERT_TRUE(manager);
  EXPECT_EQ((*manager)["devices_quarantined"], 4) << tree.dump(1);
  EXPECT_EQ((*manager)["devices_running"], 196);
  EXPECT_GT(metric(port, "edgepoll_poll_ticks_skipped_total{kind=\"breaker_open\"}"), 0);

  // Every good device has been reporting at its interval meanwhile.
  std::set<std::string> reporting;
  testing::eventually(
      [&] {
        reporting = devices_with_readings(db, 3);
        return reporting.size() >= 190;
      },
      30s, 250ms);
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

// The health port answers while the tree is still starting: a SIGTERM sent the
// moment it is announced must stop the daemon cleanly (exit 0), not kill it by
// the signal's default action (143) because no handler was installed yet.
TEST(Daemon, ASigtermAsSoonAsTheHealthPortIsAnnouncedStopsItCleanly) {
  TempDir dir;
  const fs::path config = dir.path / "edgepoll.toml";
  write_config(config, dir.path / "edgepoll.db", "127.0.0.1:9", {});
  for (int round = 0; round < 10; ++round) {
    ChildProcess daemon(EDGEPOLL_BIN, {"--config", config.string()});
    ASSERT_NE(health_port(daemon), 0) << "round " << round;
    EXPECT_EQ(daemon.signal_and_wait(SIGTERM, 30s), 0) << "round " << round;
  }
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

// Every record in a topic, as "key|reading-id header" lines, read with kcat.
std::vector<std::string> topic_records(const std::string& bootstrap, const std::string& topic) {
  const std::string cmd = "kcat -C -b '" + bootstrap + "' -t " + topic + " -e -q -f '%k|%h\\n' 2>/dev/null";
  std::vector<std::string> out;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char line[1024];
    while (fgets(line, sizeof line, p)) out.emplace_back(line, strcspn(line, "\n"));
    pclose(p);
  }
  return out;
}

std::int64_t outbox_rows(const fs::path& db) { return query_count(db, "SELECT count(*) FROM outbox"); }

// Readings ever stored: the per-device sequences handed out (they never repeat).
std::int64_t stored_ever(const fs::path& db) {
  return query_count(db, "SELECT coalesce(sum(last_seq),0) FROM device_state");
}

TEST(Daemon, ReadingsReachKafkaOnceEachAndLeaveTheOutboxOnlyAfterwards) {
  TempDir dir;
  ChildProcess kafka(KAFKA_SANDBOX_BIN, {"--brokers", "3", "--topic", "edgepoll.readings:4"});
  const std::string bootstrap = start_kafka(kafka);
  ChildProcess sim(DEVICE_SIM_BIN, {"--listen", "127.0.0.1:0"});
  const std::string address = start_sim(sim);
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) ids.push_back("dev-" + std::to_string(i));
  const fs::path db = dir.path / "edgepoll.db";
  const fs::path config = dir.path / "edgepoll.toml";
  write_config(config, db, address, ids);
  std::ofstream(config, std::ios::app) << "[kafka]\nbootstrap_servers = \"" << bootstrap
                                       << "\"\ndefault_topic = \"edgepoll.readings\"\n"
                                       << "properties = { \"reconnect.backoff.max.ms\" = \"200\" }\n";

  ChildProcess daemon(EDGEPOLL_BIN, {"--config", config.string()});
  const auto port = health_port(daemon);
  ASSERT_NE(port, 0);
  // Let it poll for a while, then stop it: SIGTERM stops the pollers first
  // (reverse start order) and the producer last, after its in-flight records.
  ASSERT_TRUE(daemon.wait_for_line([](const std::string& l) { return l.find("producer_started") != std::string::npos; }, 20s));
  testing::eventually([&] { return stored_ever(db) >= 150; }, 60s);
  ASSERT_GE(stored_ever(db), 150);
  // The subsystems' counters on /metrics; the producer's arrive after its next pump.
  testing::eventually([&] { return metric(port, "edgepoll_kafka_delivered_total") > 0; }, 20s);
  EXPECT_GT(metric(port, "edgepoll_polls_total"), 0);
  EXPECT_GT(metric(port, "edgepoll_store_committed_total"), 0);
  EXPECT_GT(metric(port, "edgepoll_kafka_delivered_total"), 0);
  EXPECT_EQ(daemon.signal_and_wait(SIGTERM, 30s), 0);

  const auto left = outbox_rows(db);
  const auto records = topic_records(bootstrap, "edgepoll.readings");
  ASSERT_GE(records.size(), 100u);
  // Each reading once (its id is in the reading-id header), keyed by its device.
  std::set<std::string> unique(records.begin(), records.end());
  EXPECT_EQ(unique.size(), records.size());
  for (const auto& r : records) {
    const auto key = r.substr(0, r.find('|'));
    EXPECT_NE(r.find("reading-id=" + key + ":"), std::string::npos) << r;
  }
  // Whatever is not in Kafka is still on disk: nothing lost.
  EXPECT_EQ(static_cast<std::int64_t>(records.size()) + left, stored_ever(db));
}

// Highest sequence per device: every reading ever stored is <device>:1..last_seq.
std::map<std::string, std::int64_t> last_seqs(const fs::path& db) {
  std::map<std::string, std::int64_t> out;
  for (const auto& row : query(db, "SELECT device_id, last_seq FROM device_state")) out[row[0]] = std::stoll(row[1]);
  return out;
}

TEST(Daemon, KillNineWhileDrainingLosesNothingAndDuplicatesKeepTheirReadingId) {
  constexpr std::size_t kInFlight = 20;  // [kafka] max_in_flight: what one kill may send twice
  TempDir dir;
  ChildProcess kafka(KAFKA_SANDBOX_BIN, {"--brokers", "1", "--topic", "edgepoll.readings:2"});
  const std::string bootstrap = start_kafka(kafka);
  ChildProcess sim(DEVICE_SIM_BIN, {"--listen", "127.0.0.1:0"});
  const std::string address = start_sim(sim);
  const fs::path db = dir.path / "edgepoll.db";
  auto config_with = [&](const std::string& name, std::vector<std::string> ids) {
    const fs::path config = dir.path / name;
    write_config(config, db, address, ids);
    // A small in-flight window, so that its bound below is far under the ~180
    // readings stored: a restart that sent the whole outbox again would fail it.
    std::ofstream(config, std::ios::app) << "[kafka]\nbootstrap_servers = \"" << bootstrap
                                         << "\"\ndefault_topic = \"edgepoll.readings\"\nmax_in_flight = "
                                         << kInFlight << "\n";
    return config;
  };
  std::vector<std::string> ids;
  for (int i = 0; i < 30; ++i) ids.push_back("k-" + std::to_string(i));
  const auto polling = config_with("polling.toml", ids);
  const auto draining = config_with("draining.toml", {});  // no devices: only the backlog moves

  for (int round = 0; round < 3; ++round) {
    ChildProcess daemon(EDGEPOLL_BIN, {"--config", polling.string()});
    ASSERT_NE(health_port(daemon), 0);
    const auto target = stored_ever(db) + 60;
    testing::eventually([&] { return stored_ever(db) >= target; }, 60s, 20ms);
    daemon.signal_and_wait(SIGKILL, 10s);  // mid-write, mid-produce: no goodbye
  }
  // Restart without devices and let the backlog drain.
  ChildProcess daemon(EDGEPOLL_BIN, {"--config", draining.string()});
  ASSERT_NE(health_port(daemon), 0);
  testing::eventually([&] { return outbox_rows(db) == 0; }, 60s);
  EXPECT_EQ(outbox_rows(db), 0);
  EXPECT_EQ(daemon.signal_and_wait(SIGTERM, 30s), 0);

  // Every reading ever stored is in Kafka; repeats are whole records with the same id.
  std::map<std::string, int> seen;
  for (const auto& r : topic_records(bootstrap, "edgepoll.readings")) {
    const auto at = r.find("reading-id=");
    ASSERT_NE(at, std::string::npos) << r;
    seen[r.substr(at + 11)]++;
  }
  std::size_t expected = 0, duplicates = 0;
  for (const auto& [device, last] : last_seqs(db)) {
    for (std::int64_t seq = 1; seq <= last; ++seq) {
      ++expected;
      const auto n = seen[device + ":" + std::to_string(seq)];
      EXPECT_GE(n, 1) << device << ":" << seq << " was stored but never reached Kafka";
      if (n > 1) duplicates += static_cast<std::size_t>(n - 1);
    }
  }
  RecordProperty("readings", static_cast<int>(expected));
  RecordProperty("duplicates", static_cast<int>(duplicates));
  EXPECT_GE(expected, 180u);
  EXPECT_EQ(seen.size(), expected);  // nothing in Kafka that was never stored
  // At most the in-flight window per kill: the drainer produces a record only
  // while fewer than max_in_flight are unacknowledged, and deletes its row after
  // the ack (kafka/src/outbox_drainer.cpp), so a kill re-sends at most that many.
  EXPECT_LE(duplicates, 3u * kInFlight);
}

void produce_lines(const std::string& bootstrap, const std::string& topic, const std::vector<std::string>& lines) {
  const std::string cmd = "kcat -P -b '" + bootstrap + "' -t " + topic + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "w");
  ASSERT_TRUE(p);
  for (const auto& l : lines) fprintf(p, "%s\n", l.c_str());
  ASSERT_EQ(pclose(p), 0);
}

TEST(Daemon, CommandsFromKafkaReachTheConfigManagerAndPoisonOnesAreDeadLettered) {
  TempDir dir;
  ChildProcess kafka(KAFKA_SANDBOX_BIN, {"--brokers", "1", "--topic", "edgepoll.readings:1", "--topic",
                                          "edgepoll.commands:1", "--topic", "edgepoll.dead_letters:1"});
  const std::string bootstrap = start_kafka(kafka);
  ChildProcess sim(DEVICE_SIM_BIN, {"--listen", "127.0.0.1:0"});
  const std::string address = start_sim(sim);
  const fs::path db = dir.path / "edgepoll.db";
  const fs::path config = dir.path / "edgepoll.toml";
  write_config(config, db, address, {"c-0", "c-1", "c-2"});
  std::ofstream(config, std::ios::app) << "[kafka]\nbootstrap_servers = \"" << bootstrap << "\"\n"
                                       << "properties = { \"auto.offset.reset\" = \"earliest\" }\n";
  ChildProcess daemon(EDGEPOLL_BIN, {"--config", config.string()});
  const auto port = health_port(daemon);
  ASSERT_NE(port, 0);
  ASSERT_TRUE(daemon.wait_for_line([](const std::string& l) { return l.find("commands_started") != std::string::npos; }, 20s));

  const std::string add = R"({"id":"add-1","node":"*","type":"add_device","device":"c-9","config":{"url":"http://)" + address +
                          R"(/devices/c-9","interval":"1s","metrics":[{"pointer":"/temperature","name":"t","type":"float"}]}})";
  produce_lines(bootstrap, "edgepoll.commands",
                {R"({"id":"off-1","node":"*","type":"disable_device","device":"c-1"})", "this is { not a command",
                 R"({"id":"ghost-1","node":"*","type":"poll_now","device":"nobody"})", add});

  // Both good commands were applied: c-1 disabled, c-9 added and polling.
  nlohmann::json tree;
  auto running = [&](const std::string& id) {
    const auto* edge = child(tree, "edge");
    const auto* pollers = edge ? child(*edge, "pollers") : nullptr;
    return pollers && child(*pollers, "device:" + id) != nullptr;
  };
  testing::eventually(
      [&] {
        tree = get_json(port, "/tree");
        return !running("c-1") && running("c-9");
      },
      30s);
  EXPECT_FALSE(running("c-1"));
  EXPECT_TRUE(running("c-9"));
  EXPECT_TRUE(running("c-0"));

  // The two poison ones are in the dead-letter topic with their errors ...
  std::vector<std::string> letters;
  testing::eventually(
      [&] {
        letters = topic_records(bootstrap, "edgepoll.dead_letters");
        return letters.size() >= 2;
      },
      30s);
  ASSERT_EQ(letters.size(), 2u);
  EXPECT_NE(letters[0].find("error-code=command.unparsable"), std::string::npos) << letters[0];
  EXPECT_NE(letters[1].find("error-code=command.unknown_device"), std::string::npos) << letters[1];
  EXPECT_EQ(daemon.signal_and_wait(SIGTERM, 30s), 0);
  // ... and in the store's dead_letters table.
  EXPECT_EQ(query_count(db, "SELECT count(*) FROM dead_letters WHERE source = 'command'"), 2);
}

}  // namespace
}  // namespace edgepoll
