// The pollers tree (real clock, real sockets) against a real Modbus TCP server,
// pymodbus 3.0 (tests/pollers/modbus/pymodbus_gateway.py under /usr/bin/python3),
// standing in for a gateway with 20 units. 25 devices sit behind that one
// address: 20 whose unit ids it serves, 5 whose ids it lacks (it never answers
// them). Every good device reports at its interval throughout, over one shared
// connection with one request outstanding, while the 5 bad ones are
// quarantined alone.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <mutex>
#include <set>

#include "edgepoll/pollers/pollers_tree.hpp"
#include "edgepoll/supervision/supervisor.hpp"
#include "support/child_process.hpp"

namespace edgepoll::pollers {
namespace {
using namespace supervision;
using namespace std::chrono_literals;

struct TimedSink final : ReadingSink {
  std::map<std::string, std::vector<std::chrono::steady_clock::time_point>> polls;
  std::map<std::string, double> last_value;
  void submit(DeviceReadings r) override {
    polls[r.device_id].push_back(std::chrono::steady_clock::now());
    if (!r.readings.empty()) {
      const auto& v = r.readings.front().value;
      if (const auto* i = std::get_if<std::int64_t>(&v))
        last_value[r.device_id] = static_cast<double>(*i);
      if (const auto* d = std::get_if<double>(&v)) last_value[r.device_id] = *d;
    }
  }
};

struct Quarantines final : QuarantineLog {
  std::set<std::string> ids;
  void quarantined(const RecordedQuarantine& q) override { ids.insert(q.device_id); }
  void released(const std::string&) override {}
  void restore(Restored done) override { done(std::vector<RecordedQuarantine>{}); }
};

DeviceConfig modbus_device(const std::string& id, std::uint16_t port, std::uint8_t unit) {
  DeviceConfig c;
  c.id = id;
  c.protocol = Protocol::modbus;
  c.interval = 1s;
  c.timeout = 250ms;
  c.intensity = {1, 30s};
  ModbusDeviceConfig m;
  m.host = "127.0.0.1";
  m.port = port;
  m.unit_id = unit;
  ModbusField reg;
  reg.name = "reg5";
  reg.address = 5;
  reg.type = ModbusType::uint16;
  ModbusField scaled = reg;
  scaled.name = "reg6_scaled";
  scaled.address = 6;
  scaled.scale = 0.5;
  m.fields = {reg, scaled};
  c.modbus = m;
  return c;
}

TEST(ModbusGateway, GoodUnitsReportAtTheirIntervalWhileBadOnesAreQuarantinedAlone) {
  std::string units;
  for (int u = 1; u <= 20; ++u) units += (u > 1 ? "," : "") + std::to_string(u);
  testing::ChildProcess server("/usr/bin/python3",
                               {MODBUS_TEST_DIR "/pymodbus_gateway.py", "--units", units});
  const auto line =
      server.wait_for_line([](const std::string& l) { return l.rfind("listening=", 0) == 0; }, 20s);
  ASSERT_TRUE(line) << "pymodbus did not start (python3-pymodbus under /usr/bin/python3)";
  const auto port = static_cast<std::uint16_t>(std::stoi(line->substr(line->rfind(':') + 1)));

  boost::asio::io_context io;
  SteadyClock clock(io);
  Runtime runtime(io, clock, false);
  ModbusTcpTransport modbus(io);
  TimedSink sink;
  Quarantines quarantine;
  PollerContext context;
  context.modbus = &modbus;
  context.sink = &sink;
  context.max_consecutive_failures = 2;
  std::vector<DeviceConfig> devices;
  for (int u = 1; u <= 20; ++u)
    devices.push_back(
        modbus_device("good-" + std::to_string(u), port, static_cast<std::uint8_t>(u)));
  for (int u = 101; u <= 105; ++u)
    devices.push_back(
        modbus_device("bad-" + std::to_string(u), port, static_cast<std::uint8_t>(u)));
  ConfigManagerOptions options;
  options.backoff_base = 60s;  // quarantined bad devices stay out of this test's window
  options.seed = 11;
  SupervisorSpec spec{
      {Strategy::rest_for_one, 5, 10},
      {pollers_child(context), config_manager_child(devices, context, options, &quarantine)}};
  ASSERT_TRUE(runtime.spawn(std::make_shared<Supervisor>(std::move(spec)), "edge").ok());

  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + 30s;
  while (quarantine.ids.size() < 5 && std::chrono::steady_clock::now() < deadline) io.run_for(50ms);
  ASSERT_EQ(quarantine.ids,
            (std::set<std::string>{"bad-101", "bad-102", "bad-103", "bad-104", "bad-105"}));
  const auto quarantined_at = std::chrono::steady_clock::now();
  io.run_for(4s);
  const auto end = std::chrono::steady_clock::now();

  // Each good device polled once a second from its first poll on: no gap
  // longer than 1.5 intervals, during the bad ones' failures or after.
  for (int u = 1; u <= 20; ++u) {
    const std::string id = "good-" + std::to_string(u);
    SCOPED_TRACE(id);
    const auto& t = sink.polls[id];
    ASSERT_GE(t.size(), 2u);
    EXPECT_LT(t.front() - start,
              2500ms);  // its phase in the first interval, or the next if its session was not up
    for (std::size_t i = 1; i < t.size(); ++i) EXPECT_LT(t[i] - t[i - 1], 1500ms);
    EXPECT_LT(end - t.back(), 1500ms);
    const double want =
        u * 100 + 5;  // pymodbus_gateway.py: holding register a of unit u = 100u + a
    EXPECT_EQ(sink.last_value[id], want);
    EXPECT_GE(static_cast<double>(t.size()),
              std::chrono::duration<double>(end - t.front()).count() - 1);
  }
  for (int u = 101; u <= 105; ++u) EXPECT_EQ(sink.polls.count("bad-" + std::to_string(u)), 0u);
  EXPECT_EQ(modbus.stats().connects.load(), 1u);  // one connection for all 25 devices
  EXPECT_GT(end - quarantined_at, 3s);
}

}  // namespace
}  // namespace edgepoll::pollers
