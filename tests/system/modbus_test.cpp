// The daemon polling 1,000 Modbus TCP units of device-sim (5 gateways x 200
// unit ids; 5 x 40 in a sanitizer build, whose daemon is several times slower:
// at 1,000 units it missed its 300 ms timeouts and quarantined good units),
// 5 of which misbehave (no answer, exceptions, connection resets, garbage):
// every other unit reports at its interval over its gateway's shared
// connection, the bad ones are quarantined alone, and the request plan shows
// in --check-config and /tree.
#include <gtest/gtest.h>

#include <fstream>

#include "system_support.hpp"

namespace edgepoll {
namespace {
using namespace system_test;

struct Unit {
  std::string id;
  std::string gateway;
  int unit;
};

void write_modbus_config(const fs::path& file, const fs::path& db, const std::vector<Unit>& units) {
  std::ofstream out(file);
  out << "[storage]\npath = \"" << db.string() << "\"\n\n[health]\nport = 0\n\n"
      << "[pollers]\nbackoff_base = \"10m\"\nbackoff_cap = \"1h\"\n\n";  // retries stay outside the
                                                                         // test
  for (const auto& u : units) {
    out << "[[device]]\nid = \"" << u.id
        << "\"\nprotocol = \"modbus\"\ninterval = \"1s\"\ntimeout = \"300ms\"\n"
        // The breaker holds a failing unit; it probes every second, so that
        // max_consecutive_failures failed probes crash it well inside the test.
        << "breaker = { open_for = \"1s\", max_open_for = \"1s\" }\n"
        << "[device.modbus]\ngateway = \"" << u.gateway << "\"\nunit_id = " << u.unit
        << "\naddressing = \"zero_based\"\n"
        << "metrics = [ { name = \"power\", address = 0, type = \"int16\", unit = \"W\" },\n"
        << "  { name = \"voltage\", address = 1, type = \"float32\", order = \"CDAB\", unit = "
           "\"V\" },\n"
        << "  { name = \"energy\", address = 3, type = \"uint32\", scale = 0.01, unit = \"kWh\" } "
           "]\n\n";
  }
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int kUnitsPerGateway = 40;
#else
constexpr int kUnitsPerGateway = 200;
#endif
constexpr int kGood = 5 * kUnitsPerGateway - 5;

TEST(Modbus, FiveGatewaysOfUnitsFiveBadTheGoodOnesReportTheBadOnesAreQuarantinedAlone) {
  TempDir dir;
  ChildProcess sim(DEVICE_SIM_BIN,
                   {"--modbus", "--listen", "127.0.0.1:0", "--listeners", "5", "--units", std::to_string(kUnitsPerGateway),
                    "--unit", "0/7=hang", "--unit", "1/9=exception:2", "--unit", "2/11=reset",
                    "--unit", "3/13=garbage", "--unit", "4/15=exception:11"});
  std::vector<std::string> gateways;
  for (int i = 0; i < 5; ++i) {
    auto line = sim.wait_for_line(
        [&](const std::string& l) {
          return l.rfind("listening=", 0) == 0 &&
                 std::find(gateways.begin(), gateways.end(), l.substr(10)) == gateways.end();
        },
        10s);
    ASSERT_TRUE(line) << "device-sim --modbus did not start";
    gateways.push_back(line->substr(10));
  }
  std::vector<Unit> units;
  const std::set<std::string> bad{"m-0-7", "m-1-9", "m-2-11", "m-3-13", "m-4-15"};
  for (int g = 0; g < 5; ++g)
    for (int u = 1; u <= kUnitsPerGateway; ++u)
      units.push_back({"m-" + std::to_string(g) + "-" + std::to_string(u), gateways[g], u});
  const fs::path db = dir.path / "edgepoll.db";
  const fs::path config = dir.path / "edgepoll.toml";
  write_modbus_config(config, db, units);

  {  // The plan: the three fields merge into one read of registers 0..4.
    ChildProcess check(EDGEPOLL_BIN, {"--config", config.string(), "--check-config"});
    EXPECT_TRUE(check.wait_for_line(
        [](const std::string& l) {
          return l.find("FC03 holding 0..4 (5 registers): power, voltage, energy") !=
                 std::string::npos;
        },
        10s));
    EXPECT_EQ(check.signal_and_wait(0, 10s), 0);
  }

  ChildProcess daemon(EDGEPOLL_BIN, {"--config", config.string()});
  const auto port = health_port(daemon);
  ASSERT_NE(port, 0) << "the daemon did not start its health endpoint";
  const auto pollers_pid = (*child(*child(get_json(port, "/tree"), "edge"), "pollers"))["pid"];

  const nlohmann::json tree = tree_once_quarantined(port, 5, 120s);
  const auto* manager = child(*child(tree, "edge"), "config_manager");
  ASSERT_TRUE(manager);
  EXPECT_EQ((*manager)["devices_quarantined"], 5) << tree.dump(1).substr(0, 4000);
  EXPECT_EQ((*manager)["devices_running"], kGood);

  std::set<std::string> reporting;
  testing::eventually(
      [&] {
        reporting = devices_with_readings(db, 5);
        return reporting.size() >= static_cast<std::size_t>(kGood);
      },
      30s, 250ms);
  EXPECT_EQ(reporting.size(), static_cast<std::size_t>(kGood));
  for (const auto& id : bad) EXPECT_EQ(reporting.count(id), 0u) << id;
  EXPECT_EQ(query_count(db, "SELECT count(DISTINCT device_id) FROM outbox"), kGood);

  // A device's session shows its gateway and plan in /tree.
  const auto* pollers = child(*child(tree, "edge"), "pollers");
  ASSERT_TRUE(pollers);
  const auto* device = child(*pollers, "device:m-0-1");
  ASSERT_TRUE(device);
  const auto* session = child(*device, "connection");
  ASSERT_TRUE(session);
  EXPECT_EQ((*session)["gateway"], gateways[0]);
  EXPECT_EQ((*session)["request_plan"][0],
            "FC03 holding 0..4 (5 registers): power, voltage, energy");
  EXPECT_EQ((*pollers)["pid"], pollers_pid);
  EXPECT_EQ((*pollers)["restarts_in_window"], 0);
  // The gateways' connections in /metrics: one per gateway, and the resetting
  // and garbage-sending units' connections ended and were made again.
  EXPECT_GE(metric(port, "edgepoll_modbus_connects_total"), 7);
  EXPECT_GE(metric(port, "edgepoll_modbus_disconnects_total"), 2);
  EXPECT_GT(metric(port, "edgepoll_modbus_timeouts_total"), 0);  // the unit that never answers
  EXPECT_GT(metric(port, "edgepoll_modbus_answers_total"), kGood * 5);
  EXPECT_EQ(daemon.signal_and_wait(SIGTERM, 30s), 0);
}

}  // namespace
}  // namespace edgepoll
