// The daemon polling 50 SNMP agents: 45 simulated by one snmpsimd (v2c, with
// recorded data generated here), 2 dead (nothing listens), 2 slow (answer
// after their timeout, tests/pollers/snmp/fake_agent.py) and 1 v3 device whose
// auth passphrase is wrong (a real snmpd). The good ones report at their
// interval, tables joined into tagged rows; the bad ones are quarantined alone
// (checked through /tree); no secret reaches the log.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>

#include "pollers/snmp_support.hpp"
#include "system_support.hpp"

namespace edgepoll {
namespace {
using namespace system_test;

constexpr const char* kSimCommunity = "edgepoll-sim-community";
constexpr const char* kWrongPass = "wrong-auth-passphrase-7";

struct Agent {
  std::string id;
  std::uint16_t port;
  bool v3 = false;
};

// snmpsimd serves <community>.snmprec; it drops to nobody, so the files must be readable by it.
void write_recording(const fs::path& dir) {
  fs::create_directories(dir / "data");
  fs::create_directories(dir / "cache");
  std::ofstream(dir / "data" / (std::string(kSimCommunity) + ".snmprec"))
      << "1.3.6.1.2.1.1.3.0|67|123456\n"
         "1.3.6.1.2.1.1.5.0|4|sim-agent\n"
         "1.3.6.1.2.1.2.2.1.2.1|4|eth0\n"
         "1.3.6.1.2.1.2.2.1.2.2|4|eth1\n"
         "1.3.6.1.2.1.2.2.1.10.1|65|1000\n"
         "1.3.6.1.2.1.2.2.1.10.2|65|2000\n";
  for (const auto& p : {dir, dir / "data"}) ::chmod(p.c_str(), 0755);
  ::chmod((dir / "data" / (std::string(kSimCommunity) + ".snmprec")).c_str(), 0644);
  ::chown((dir / "cache").c_str(), 65534, 65534);  // nobody:nogroup
}

void write_config(const fs::path& file, const fs::path& db, const fs::path& secrets, const std::vector<Agent>& agents) {
  std::ofstream(secrets / "community") << kSimCommunity << "\n";
  std::ofstream(secrets / "auth") << kWrongPass << "\n";
  std::ofstream(secrets / "priv") << testing::kPrivPass << "\n";
  std::ofstream out(file);
  out << "[storage]\npath = \"" << db.string() << "\"\n\n[health]\nport = 0\n\n"
      << "[pollers]\nbackoff_base = \"10m\"\nbackoff_cap = \"1h\"\n\n";  // retries stay outside the test
  for (const auto& a : agents) {
    // The slow agents answer after 2 s: any timeout below that fails them.
    out << "[[device]]\nid = \"" << a.id << "\"\nprotocol = \"snmp\"\ninterval = \"1s\"\ntimeout = \"900ms\"\n"
        << "breaker = { open_for = \"1s\", max_open_for = \"1s\" }\n"
        << "[device.snmp]\nagent = \"127.0.0.1:" << a.port << "\"\nretries = 0\n";
    if (a.v3)
      out << "version = \"3\"\nuser = \"sha-aes\"\nsecurity_level = \"authPriv\"\nauth_protocol = \"SHA\"\n"
          << "auth_passphrase_file = \"" << (secrets / "auth").string() << "\"\npriv_protocol = \"AES\"\n"
          << "priv_passphrase_file = \"" << (secrets / "priv").string() << "\"\n";
    else
      out << "version = \"2c\"\ncommunity_file = \"" << (secrets / "community").string() << "\"\n";
    out << "metrics = [ { name = \"uptime\", oid = \"1.3.6.1.2.1.1.3.0\", unit = \"s\" },\n"
        << "  { name = \"name\", oid = \"1.3.6.1.2.1.1.5.0\" } ]\n"
        << "[[device.snmp.tables]]\nname = \"if\"\nindex_tag = \"ifIndex\"\n"
        << "columns = [ { name = \"in_octets\", oid = \"1.3.6.1.2.1.2.2.1.10\" } ]\n"
        << "tags = [ { name = \"ifDescr\", oid = \"1.3.6.1.2.1.2.2.1.2\" } ]\n\n";
  }
}

// One snmpsimd serving 15 agents, sw-<first>..sw-<first+14>, appended to
// `agents` once it listens on all of them. A port found free can still be
// bound by another test before snmpsimd binds it, and snmpsimd then exits
// with "Address already in use": that start is retried on fresh ports.
std::unique_ptr<ChildProcess> start_sim(const fs::path& sim_dir, int first,
                                        std::vector<Agent>& agents) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::vector<Agent> mine;
    std::vector<std::string> args{"--data-dir=" + (sim_dir / "data").string(),
                                  "--cache-dir=" + (sim_dir / "cache").string(),
                                  "--process-user=nobody", "--process-group=nogroup"};
    for (int i = 0; i < 15; ++i) {
      mine.push_back({"sw-" + std::to_string(first + i), testing::free_udp_port()});
      args.push_back("--agent-udpv4-endpoint=127.0.0.1:" + std::to_string(mine.back().port));
    }
    auto sim = std::make_unique<ChildProcess>("/usr/bin/snmpsimd", args);
    const std::string last =
        "Listening at UDP/IPv4 endpoint 127.0.0.1:" + std::to_string(mine.back().port);
    if (sim->wait_for_line([&](const std::string& l) { return l.find(last) != std::string::npos; },
                           60s)) {
      agents.insert(agents.end(), mine.begin(), mine.end());
      return sim;
    }
    const auto lines = sim->lines();
    const bool port_taken = std::any_of(lines.begin(), lines.end(), [](const std::string& l) {
      return l.find("Address already in use") != std::string::npos;
    });
    if (!port_taken) {
      for (const auto& l : lines) ADD_FAILURE() << "snmpsimd: " << l;
      return nullptr;
    }
  }
  ADD_FAILURE() << "snmpsimd found a port taken on five starts in a row";
  return nullptr;
}

TEST(Snmp, FiftyAgentsFiveBadTheGoodOnesReportTheBadOnesAreQuarantinedAlone) {
  TempDir dir;
  ::chmod(dir.path.c_str(), 0755);
  write_recording(dir.path / "sim");
  // Three snmpsimd processes of 15 agents each: one Python process is slow
  // enough on a loaded machine to make good agents look bad.
  std::vector<Agent> agents;
  std::vector<std::unique_ptr<ChildProcess>> sims;
  for (int s = 0; s < 3; ++s) {
    auto sim = start_sim(dir.path / "sim", s * 15, agents);
    ASSERT_TRUE(sim) << "snmpsimd did not start";
    sims.push_back(std::move(sim));
  }
  testing::FakeAgent slow1("late", "2000"), slow2("late", "2000");
  testing::Snmpd snmpd;
  const std::set<std::string> bad{"dead-1", "dead-2", "slow-1", "slow-2", "v3-wrong-pass"};
  agents.push_back({"dead-1", testing::free_udp_port()});
  agents.push_back({"dead-2", testing::free_udp_port()});
  agents.push_back({"slow-1", slow1.port()});
  agents.push_back({"slow-2", slow2.port()});
  agents.push_back({"v3-wrong-pass", snmpd.port(), true});

  const fs::path db = dir.path / "edgepoll.db";
  const fs::path config = dir.path / "edgepoll.toml";
  fs::create_directories(dir.path / "secrets");
  write_config(config, db, dir.path / "secrets", agents);

  ChildProcess daemon(EDGEPOLL_BIN, {"--config", config.string()});
  const auto port = health_port(daemon);
  if (port == 0)
    for (const auto& line : daemon.lines()) ADD_FAILURE() << line;
  ASSERT_NE(port, 0) << "the daemon did not start its health endpoint";
  const auto pollers_pid = (*child(*child(get_json(port, "/tree"), "edge"), "pollers"))["pid"];

  const nlohmann::json tree = tree_once_quarantined(port, 5, 120s);
  const auto* manager = child(*child(tree, "edge"), "config_manager");
  ASSERT_TRUE(manager);
  EXPECT_EQ((*manager)["devices_quarantined"], 5) << tree.dump(1).substr(0, 4000);
  EXPECT_EQ((*manager)["devices_running"], 45);

  // The good ones keep reporting at their 1 s interval: 5 polls each in well under a minute.
  std::set<std::string> reporting;
  testing::eventually(
      [&] {
        reporting = devices_with_readings(db, 5);
        return reporting.size() >= 45;
      },
      60s, 250ms);
  EXPECT_EQ(reporting.size(), 45u);
  for (const auto& id : bad) EXPECT_EQ(reporting.count(id), 0u) << id;

  // A poll's readings: the scalars, and the table as rows tagged by index and ifDescr.
  const auto rows = query(db, "SELECT payload FROM outbox WHERE device_id = 'sw-0' LIMIT 1");
  ASSERT_EQ(rows.size(), 1u);
  const auto payload = nlohmann::json::parse(rows[0][0]);
  std::map<std::string, nlohmann::json> by_metric;
  for (const auto& r : payload["readings"])
    by_metric[r["metric"].get<std::string>() + r.value("tags", nlohmann::json::object()).dump()] = r;
  EXPECT_EQ(by_metric["uptime{}"]["value"], 1234.56);
  EXPECT_EQ(by_metric["name{}"]["value"], "sim-agent");
  EXPECT_EQ(by_metric["if.in_octets{\"ifDescr\":\"eth1\",\"ifIndex\":\"2\"}"]["value"], 2000) << payload.dump();

  // A device's connection shows its agent in /tree; the pollers subtree never restarted.
  const auto* pollers = child(*child(tree, "edge"), "pollers");
  ASSERT_TRUE(pollers);
  const auto* device = child(*pollers, "device:sw-0");
  ASSERT_TRUE(device);
  const auto* connection = child(*device, "connection");
  ASSERT_TRUE(connection);
  EXPECT_EQ((*connection)["agent"], "127.0.0.1:" + std::to_string(agents[0].port));
  EXPECT_EQ((*connection)["snmp_version"], "2c");
  EXPECT_EQ((*pollers)["pid"], pollers_pid);
  EXPECT_EQ((*pollers)["restarts_in_window"], 0);
  EXPECT_GT(metric(port, "edgepoll_snmp_timeouts_total"), 0);  // the dead and the slow
  EXPECT_GT(metric(port, "edgepoll_snmp_reports_total"), 0);   // the wrong passphrase
  EXPECT_GT(metric(port, "edgepoll_snmp_answers_total"), 45 * 5);
  EXPECT_EQ(daemon.signal_and_wait(SIGTERM, 30s), 0);

  // The v3 device's failures are in the log by name; its secrets and the community are not.
  bool named = false;
  for (const auto& line : daemon.lines()) {
    EXPECT_EQ(line.find(kWrongPass), std::string::npos) << line;
    EXPECT_EQ(line.find(testing::kPrivPass), std::string::npos) << line;
    EXPECT_EQ(line.find(kSimCommunity), std::string::npos) << line;
    named |= line.find("v3-wrong-pass") != std::string::npos && line.find("pollers.snmp.wrong_digest") != std::string::npos;
  }
  EXPECT_TRUE(named);
}

}  // namespace
}  // namespace edgepoll
