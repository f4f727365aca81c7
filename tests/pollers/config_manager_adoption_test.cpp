// A config manager that crashes (or whose pollers sibling crashes) on a
// FakeClock: the fresh instance adopts the device subtrees still running
// instead of starting second copies, keeps disabled devices off and quarantined
// ones waiting, and its later commands stop the right subtree.
#include <gtest/gtest.h>

#include "edgepoll/pollers/pollers_tree.hpp"
#include "edgepoll/supervision/supervisor.hpp"
#include "pollers_tree_support.hpp"

namespace edgepoll::pollers {
namespace {
using namespace supervision;

struct Adoption : ::testing::Test {
  boost::asio::io_context io;
  FakeClock clock;
  Runtime runtime{io, clock, false};
  ScriptedTransport transport{io};
  CountingSink sink;
  PollerContext context;
  std::shared_ptr<ApplyDevices> wanted = std::make_shared<ApplyDevices>();
  Pid edge;

  void SetUp() override {
    context.transport = &transport;
    context.sink = &sink;
    ConfigManagerOptions options;
    options.seed = 7;
    options.backoff_base =
        std::chrono::minutes(10);  // a quarantined device stays out during the test
    options.backoff_cap = std::chrono::hours(1);
    for (const char* id : {"a", "b", "q", "off"})
      wanted->devices.push_back(std::make_shared<const DeviceConfig>(device(id)));
    wanted->disabled = {"off"};
    transport.modes["q"] = ScriptedTransport::Mode::garbage;
    auto current = [w = wanted] { return *w; };
    SupervisorSpec spec{
        {Strategy::rest_for_one, 5, 10},
        {pollers_child(context),
         config_manager_child(current, std::make_shared<StartedDevices>(), context, options)}};
    edge = runtime.spawn(std::make_shared<Supervisor>(std::move(spec)), "edge").value();
    runtime.settle();
    for (int s = 0; s < 30; ++s)
      runtime.advance(1s);  // q exhausts its intensity and is quarantined
  }
  Pid child_of(const Pid& sup, const std::string& id) {
    for (const auto& c : which_children(sup)) {
      if (c.id == id) return c.pid;
    }
    return Pid{};
  }
  Pid pollers() { return child_of(edge, "pollers"); }
  Pid manager() { return child_of(edge, "config_manager"); }
  // Device subtree ids under pollers, one entry per living subtree (duplicates show).
  std::multiset<std::string> device_trees() {
    std::multiset<std::string> out;
    for (const auto& c : which_children(pollers())) {
      if (c.pid) out.insert(c.id);
    }
    return out;
  }
  void kill(const Pid& pid) {
    runtime.exit(pid, ExitReason::kill());
    runtime.settle();
    runtime.advance(1s);
  }
};

TEST_F(Adoption, AConfigManagerCrashAdoptsTheRunningDevicesAndStartsNothingTwice) {
  ASSERT_EQ(device_trees(), (std::multiset<std::string>{"device:a", "device:b"}));
  const Pid a = child_of(pollers(), "device:a"), b = child_of(pollers(), "device:b");
  const Pid before = manager();
  kill(before);
  ASSERT_TRUE(manager());
  ASSERT_NE(manager(), before);
  // Exactly one subtree per enabled device, the same ones; none for off; q waits out its
  // quarantine.
  EXPECT_EQ(device_trees(), (std::multiset<std::string>{"device:a", "device:b"}));
  EXPECT_EQ(child_of(pollers(), "device:a"), a);
  EXPECT_EQ(child_of(pollers(), "device:b"), b);
  for (int s = 0; s < 30; ++s) runtime.advance(1s);
  EXPECT_EQ(device_trees(), (std::multiset<std::string>{"device:a", "device:b"}));

  // The new instance watches the adopted ones: disabling a stops a, not b.
  wanted->disabled.insert("a");
  runtime.send(manager(), *wanted);
  runtime.settle();
  EXPECT_EQ(device_trees(), (std::multiset<std::string>{"device:b"}));
  EXPECT_EQ(child_of(pollers(), "device:b"), b);
  // And a device it adopted that then dies is quarantined by it, not forgotten.
  runtime.exit(b, ExitReason::kill());
  runtime.settle();
  auto snapshot = tree_snapshot(edge);
  EXPECT_EQ(snapshot["children"][1]["devices_quarantined"], 2) << snapshot.dump(1);
}

TEST_F(Adoption, AConfigChangeWhileTheManagerWasDownReplacesOnlyThatDevice) {
  const Pid a = child_of(pollers(), "device:a"), b = child_of(pollers(), "device:b");
  auto b_changed = device("b");
  b_changed.interval = 3s;  // b changed while no manager listened
  wanted->devices[1] = std::make_shared<const DeviceConfig>(b_changed);
  kill(manager());
  EXPECT_EQ(device_trees(), (std::multiset<std::string>{"device:a", "device:b"}));
  EXPECT_EQ(child_of(pollers(), "device:a"), a);
  EXPECT_NE(child_of(pollers(), "device:b"), b);
}

TEST_F(Adoption, APollersCrashRestartsEachEnabledDeviceOnce) {
  const Pid before = pollers();
  kill(before);
  ASSERT_NE(pollers(), before);
  EXPECT_EQ(device_trees(), (std::multiset<std::string>{"device:a", "device:b"}));
  wanted->disabled.insert("b");
  runtime.send(manager(), *wanted);
  runtime.settle();
  EXPECT_EQ(device_trees(), (std::multiset<std::string>{"device:a"}));
}

}  // namespace
}  // namespace edgepoll::pollers
