// The supervised pollers subtree on a FakeClock with a scripted transport: one
// bad device never disturbs another, dead devices are quarantined and retried
// with full-jitter backoff, config changes restart only the device they touch.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "edgepoll/pollers/pollers_tree.hpp"
#include "edgepoll/supervision/supervisor.hpp"
#include "pollers_tree_support.hpp"

namespace edgepoll::pollers {
namespace {
using namespace supervision;
using namespace std::chrono_literals;

struct Edge : ::testing::Test {
  boost::asio::io_context io;
  FakeClock clock;
  Runtime runtime{io, clock, false};
  ScriptedTransport transport{io};
  CountingSink sink;
  RecordingQuarantine quarantine;
  PollerContext context;
  Pid edge;

  void start(std::vector<DeviceConfig> devices, ConfigManagerOptions options = {}) {
    context.transport = &transport;
    context.sink = &sink;
    options.seed = 7;
    SupervisorSpec spec{{Strategy::rest_for_one, 5, 10},
                        {pollers_child(context), config_manager_child(std::move(devices), context, options, &quarantine)}};
    edge = runtime.spawn(std::make_shared<Supervisor>(std::move(spec)), "edge").value();
    runtime.settle();
  }
  Pid child_of(const Pid& sup, const std::string& id) {
    for (const auto& c : which_children(sup)) {
      if (c.id == id) return c.pid;
    }
    return Pid{};
  }
  Pid pollers() { return child_of(edge, "pollers"); }
  Pid device_tree(const std::string& id) { return child_of(pollers(), "device:" + id); }
};

TEST_F(Edge, BadDevicesAreQuarantinedAloneAndGoodOnesKeepPolling) {
  std::vector<DeviceConfig> devices;
  for (int i = 0; i < 200; ++i) devices.push_back(device("d" + std::to_string(i)));
  for (int i = 0; i < 10; ++i) {
    transport.modes["d" + std::to_string(i)] = i % 2 ? ScriptedTransport::Mode::garbage : ScriptedTransport::Mode::refused;
  }
  start(devices);
  const Pid pollers_before = pollers();
  for (int s = 0; s < 30; ++s) runtime.advance(1s);

  // Good devices reported at their interval: about 30 polls in 30 s each.
  for (int i = 10; i < 200; ++i) {
    EXPECT_GE(sink.polls["d" + std::to_string(i)], 28) << "d" << i;
  }
  // Every bad one was quarantined; none of them reported a reading.
  EXPECT_EQ(quarantine.ids.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(sink.polls.count("d" + std::to_string(i)), 0u);
  // pollers never restarted, and edge never restarted pollers.
  EXPECT_EQ(pollers(), pollers_before);
  auto snapshot = tree_snapshot(edge);
  EXPECT_EQ(snapshot["restarts_in_window"], 0);
  EXPECT_EQ(snapshot["children"][0]["restarts_in_window"], 0);
  EXPECT_EQ(snapshot["children"][1]["devices_running"].get<int>() + snapshot["children"][1]["devices_quarantined"].get<int>(), 200);
}

TEST_F(Edge, QuarantinedDevicesComeBackAfterBackoffAndRecover) {
  transport.modes["bad"] = ScriptedTransport::Mode::garbage;
  ConfigManagerOptions options;
  options.backoff_base = 10s;
  options.backoff_cap = 1h;
  start({device("bad"), device("good")}, options);
  for (int s = 0; s < 10; ++s) runtime.advance(1s);
  ASSERT_EQ(quarantine.ids.count("bad"), 1u);
  EXPECT_FALSE(device_tree("bad"));
  transport.modes["bad"] = ScriptedTransport::Mode::good;  // the device is fixed
  for (int s = 0; s < 20; ++s) runtime.advance(1s);        // first retry is within base = 10 s
  EXPECT_TRUE(device_tree("bad"));
  EXPECT_GT(sink.polls["bad"], 0);
}

TEST_F(Edge, AThousandDevicesQuarantinedAtOnceAreRetriedSpreadOverTheWindow) {
  std::vector<DeviceConfig> devices;
  for (int i = 0; i < 1000; ++i) {
    devices.push_back(device("d" + std::to_string(i)));
    transport.modes["d" + std::to_string(i)] = ScriptedTransport::Mode::refused;
  }
  ConfigManagerOptions options;
  options.backoff_base = 10s;
  start(devices, options);
  for (int s = 0; s < 30 && quarantine.delays.size() < 1000; ++s) runtime.advance(1s);
  ASSERT_GE(quarantine.delays.size(), 1000u);
  // Full jitter: first retries fall anywhere in [0, 10 s]; every second of the
  // window gets some of them (a herd would put them all in one).
  std::vector<int> per_second(10, 0);
  for (std::size_t i = 0; i < 1000; ++i) {
    const auto s = std::chrono::duration_cast<std::chrono::milliseconds>(quarantine.delays[i]).count() / 1000;
    per_second[std::clamp<std::size_t>(static_cast<std::size_t>(std::max<long>(0, s)), 0, 9)]++;
  }
  for (int n : per_second) EXPECT_GT(n, 50);
  for (int n : per_second) EXPECT_LT(n, 150);
}

TEST_F(Edge, AConfigChangeRestartsOnlyThatDevice) {
  start({device("a"), device("b"), device("c")});
  runtime.advance(2s);
  const Pid a = device_tree("a"), b = device_tree("b"), c = device_tree("c");
  Pid manager = child_of(edge, "config_manager");
  runtime.send(manager, UpsertDevice{device("b", 2s)});
  runtime.settle();
  EXPECT_EQ(device_tree("a"), a);
  EXPECT_EQ(device_tree("c"), c);
  EXPECT_NE(device_tree("b"), b);
  EXPECT_TRUE(device_tree("b"));
  // The same config again changes nothing.
  runtime.send(manager, UpsertDevice{device("b", 2s)});
  const Pid b2 = device_tree("b");
  runtime.settle();
  EXPECT_EQ(device_tree("b"), b2);
  runtime.send(manager, RemoveDevice{"c"});
  runtime.settle();
  EXPECT_FALSE(device_tree("c"));
  EXPECT_EQ(device_tree("a"), a);
}

TEST_F(Edge, AConnectionRestartKeepsTheFsmAndAnFsmRestartTakesTheConnection) {
  start({device("a")});
  runtime.advance(2s);
  const Pid tree = device_tree("a");
  const Pid fsm = child_of(tree, "fsm"), connection = child_of(tree, "connection");
  runtime.exit(connection, ExitReason::kill());
  runtime.settle();
  EXPECT_EQ(child_of(tree, "fsm"), fsm);  // state kept across a reconnect
  EXPECT_NE(child_of(tree, "connection"), connection);
  const Pid connection2 = child_of(tree, "connection");
  runtime.exit(fsm, ExitReason::kill());
  runtime.settle();
  EXPECT_NE(child_of(tree, "fsm"), fsm);
  EXPECT_NE(child_of(tree, "connection"), connection2);  // rest_for_one: it follows
  const int before = sink.polls["a"];
  runtime.advance(3s);
  EXPECT_GT(sink.polls["a"], before);  // and it polls again
}

}  // namespace
}  // namespace edgepoll::pollers
