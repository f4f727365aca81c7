// The supervised pollers subtree on a FakeClock with a scripted transport: one
// bad device never disturbs another, dead devices are quarantined and retried
// with full-jitter backoff, config changes restart only the device they touch.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <set>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <nlohmann/json.hpp>

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

TEST_F(Edge, BadDevicesAreHeldByTheirBreakersOrQuarantinedAloneAndGoodOnesKeepPolling) {
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
  // The garbage ones (odd) crashed their fsm until quarantined; the refusing
  // ones (even) are held by their breakers (not a crash: ticks are skipped);
  // none of them reported a reading.
  EXPECT_EQ(quarantine.ids.size(), 5u);
  for (int i = 1; i < 10; i += 2) EXPECT_EQ(quarantine.ids.count("d" + std::to_string(i)), 1u);
  EXPECT_GT(context.counters->skipped_open.load(), 0u);
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
    transport.modes["d" + std::to_string(i)] = ScriptedTransport::Mode::garbage;
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
  // The fsm sends its polls to the new connection, not to the one it knew.
  const int after_reconnect = sink.polls["a"];
  runtime.advance(3s);
  EXPECT_GT(sink.polls["a"], after_reconnect);
  const Pid connection2 = child_of(tree, "connection");
  runtime.exit(fsm, ExitReason::kill());
  runtime.settle();
  EXPECT_NE(child_of(tree, "fsm"), fsm);
  EXPECT_NE(child_of(tree, "connection"), connection2);  // rest_for_one: it follows
  const int before = sink.polls["a"];
  runtime.advance(3s);
  EXPECT_GT(sink.polls["a"], before);  // and it polls again
}

// Point 7's stages on the fake clock, one device that goes bad, recovers, and
// goes bad for good: closed -> open -> skipped ticks counted -> half-open probe
// -> closed; open again -> failed probes -> fsm crash after N -> the device
// subtree's intensity -> quarantine. The breaker is kept across a connection restart.
TEST_F(Edge, TheBreakerHoldsThenTheFsmCrashesThenIntensityThenQuarantine) {
  DeviceConfig d = device("d");
  d.breaker.failure_threshold = 2;
  d.breaker.open_for = 4s;
  d.breaker.max_open_for = 4s;
  // Room for the connection's restarts (one killed below, one per 3 failed
  // requests) and the first fsm crash, not for the crashes that follow.
  d.intensity.max_restarts = 4;
  d.intensity.period = 600s;
  context.max_consecutive_failures = 3;
  transport.modes["d"] = ScriptedTransport::Mode::refused;
  start({d});
  auto fsm = [&] {
    const auto tree = tree_snapshot(device_tree("d"));
    if (tree.contains("children"))
      for (const auto& c : tree["children"])
        if (c["id"] == "fsm") return c;
    return nlohmann::json::object();
  };
  auto advance_until = [&](auto done, int seconds) {
    for (int s = 0; s < seconds && !done(); ++s) runtime.advance(1s);
    return done();
  };
  // closed -> open after 2 failed polls; the fsm does not exit for it.
  ASSERT_TRUE(advance_until([&] { return fsm().value("breaker", "") == "open"; }, 5)) << fsm().dump();
  const Pid fsm_pid = child_of(device_tree("d"), "fsm");
  const auto requests_when_opened = transport.requests["d"];
  // Open: ticks come and are skipped, counted as breaker_open; no request goes out.
  runtime.advance(2s);
  EXPECT_GE(context.counters->skipped_open.load(), 1u);
  EXPECT_EQ(transport.requests["d"], requests_when_opened);
  // A connection restart while open keeps the breaker (it lives in the fsm).
  runtime.exit(child_of(device_tree("d"), "connection"), ExitReason::kill());
  runtime.settle();
  EXPECT_EQ(child_of(device_tree("d"), "fsm"), fsm_pid);
  EXPECT_EQ(fsm().value("breaker", ""), "open");
  // The device is fixed: the half-open probe succeeds and closes the breaker.
  transport.modes["d"] = ScriptedTransport::Mode::good;
  ASSERT_TRUE(advance_until([&] { return sink.polls["d"] > 0; }, 10));
  EXPECT_EQ(fsm().value("breaker", ""), "closed");
  EXPECT_EQ(child_of(device_tree("d"), "fsm"), fsm_pid);
  // Bad again: open again, and the probes fail; after N = 3 failed probes the fsm crashes.
  transport.modes["d"] = ScriptedTransport::Mode::refused;
  ASSERT_TRUE(advance_until([&] { return fsm().value("breaker", "") == "open"; }, 5));
  EXPECT_EQ(child_of(device_tree("d"), "fsm"), fsm_pid);
  const auto skipped_before = context.counters->skipped_open.load();
  ASSERT_TRUE(advance_until([&] { return device_tree("d") && child_of(device_tree("d"), "fsm") != fsm_pid; }, 30));
  EXPECT_GT(context.counters->skipped_open.load(), skipped_before);
  EXPECT_TRUE(quarantine.ids.empty());  // one crash is the subtree's business
  // Crashes keep coming; the subtree's intensity (4 in 600 s) runs out and the
  // config manager quarantines the device.
  ASSERT_TRUE(advance_until([&] { return quarantine.ids.count("d") == 1; }, 120));
  EXPECT_FALSE(device_tree("d"));
}

// Point 6: a quarantine recorded before this start (a previous daemon) is kept
// until its time, with its attempt: no herd of bad devices after a crash loop.
TEST_F(Edge, ARecordedQuarantineIsKeptUntilItsTimeAndItsBackoffContinues) {
  quarantine.recorded["bad"] =
      RecordedQuarantine{"bad", 3, std::chrono::system_clock::now() + 60s, "device subtree ended: crash"};
  ConfigManagerOptions options;
  options.backoff_base = 10s;
  options.backoff_cap = 1h;
  start({device("bad"), device("good")}, options);
  EXPECT_TRUE(device_tree("good"));
  EXPECT_FALSE(device_tree("bad"));
  auto manager = tree_snapshot(child_of(edge, "config_manager"));
  EXPECT_EQ(manager["devices_quarantined"], 1);
  for (int s = 0; s < 55; ++s) runtime.advance(1s);
  EXPECT_FALSE(device_tree("bad"));
  EXPECT_EQ(transport.requests["bad"], 0);
  EXPECT_GT(transport.requests["good"], 50);
  // Its time comes: started and released.
  transport.modes["bad"] = ScriptedTransport::Mode::garbage;  // still bad
  for (int s = 0; s < 10 && !device_tree("bad"); ++s) runtime.advance(1s);
  ASSERT_TRUE(device_tree("bad"));
  EXPECT_EQ(quarantine.releases, std::vector<std::string>{"bad"});
  // Quarantined again: the backoff went on from attempt 3, not from the start.
  for (int s = 0; s < 30 && !quarantine.recorded.count("bad"); ++s) runtime.advance(1s);
  ASSERT_EQ(quarantine.recorded.count("bad"), 1u);
  EXPECT_EQ(quarantine.recorded["bad"].attempt, 4u);
}

TEST_F(Edge, AQuarantineWhoseTimePassedWhileTheDaemonWasDownStartsAtOnce) {
  quarantine.recorded["late"] = RecordedQuarantine{"late", 1, std::chrono::system_clock::now() - 1s, "crash"};
  start({device("late")});
  EXPECT_TRUE(device_tree("late"));
}

// Until the recorded quarantines are read no device starts, and what arrives
// meanwhile (a command) waits and is applied afterwards, in order.
TEST_F(Edge, NothingStartsBeforeTheRecordedQuarantinesAreReadAndCommandsWait) {
  quarantine.hold_restore = true;
  quarantine.recorded["bad"] = RecordedQuarantine{"bad", 1, std::chrono::system_clock::now() + 1h, "crash"};
  start({device("bad"), device("a"), device("b")});
  EXPECT_FALSE(device_tree("a"));
  std::optional<Status> answer;
  DeviceCommand off;
  off.kind = DeviceCommand::Kind::disable;
  off.device = "b";
  off.reply = [&](Status s) { answer = std::move(s); };
  runtime.send(child_of(edge, "config_manager"), off);
  runtime.settle();
  EXPECT_FALSE(answer.has_value());
  ASSERT_TRUE(quarantine.held);
  quarantine.answer_restore(std::move(quarantine.held));
  runtime.settle();
  ASSERT_TRUE(answer.has_value());
  EXPECT_TRUE(answer->ok());
  EXPECT_TRUE(device_tree("a"));
  EXPECT_FALSE(device_tree("b"));    // disabled by the command that waited
  EXPECT_FALSE(device_tree("bad"));  // still quarantined
}

TEST_F(Edge, AStoreThatNeverAnswersDoesNotKeepTheDevicesDown) {
  quarantine.hold_restore = true;
  start({device("a")});
  EXPECT_FALSE(device_tree("a"));
  for (int s = 0; s < 11 && !device_tree("a"); ++s) runtime.advance(1s);
  EXPECT_TRUE(device_tree("a"));
  quarantine.answer_restore(std::move(quarantine.held));  // too late: ignored
  runtime.settle();
  EXPECT_TRUE(device_tree("a"));
}

}  // namespace
}  // namespace edgepoll::pollers
