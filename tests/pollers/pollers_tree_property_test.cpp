// Property (the runtime's, extended to the pollers subtree): random crashes and
// kills inside device subtrees, HTTP and Modbus alike (odd devices are Modbus
// units behind one gateway, some answering exceptions or nothing), never take
// down a process outside that device:
// pollers, the config manager, edge and every other device keep their pids,
// and every configured device is always either running or quarantined.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "edgepoll/supervision/supervisor.hpp"
#include "pollers_tree_support.hpp"

namespace edgepoll::pollers {
namespace {
using namespace supervision;

Pid child_of(const Pid& sup, const std::string& id) {
  for (const auto& c : which_children(sup)) {
    if (c.id == id) return c.pid;
  }
  return Pid{};
}

RC_GTEST_PROP(PollersTreeProperty, KillsInsideADeviceNeverReachOutsideIt,
              (const std::vector<std::tuple<unsigned, unsigned, unsigned, unsigned>>& steps)) {
  const unsigned devices = 2 + static_cast<unsigned>(steps.size() % 6);
  boost::asio::io_context io;
  FakeClock clock;
  Runtime runtime(io, clock, false);
  ScriptedTransport transport(io);
  ScriptedModbusTransport modbus(io);
  modbus.modes[3] = ScriptedModbusTransport::Mode::exception;
  modbus.modes[5] = ScriptedModbusTransport::Mode::timeout;
  CountingSink sink;
  PollerContext context;
  context.transport = &transport;
  context.modbus = &modbus;
  context.sink = &sink;
  std::vector<DeviceConfig> configs;
  for (unsigned i = 0; i < devices; ++i) {
    const std::string id = "d" + std::to_string(i);
    configs.push_back(i % 2 ? modbus_device(id, static_cast<std::uint8_t>(i)) : device(id));
  }
  ConfigManagerOptions options;
  options.seed = 3;
  SupervisorSpec spec{{Strategy::rest_for_one, 5, 10},
                      {pollers_child(context), config_manager_child(configs, context, options)}};
  const Pid edge = runtime.spawn(std::make_shared<Supervisor>(std::move(spec)), "edge").value();
  runtime.settle();
  runtime.advance(std::chrono::milliseconds(1500));  // every device has polled once
  const Pid pollers = child_of(edge, "pollers");
  const Pid manager = child_of(edge, "config_manager");

  for (const auto& [which, part, how, wait] : steps) {
    const std::string id = "device:d" + std::to_string(which % devices);
    if (wait % 3 == 0) runtime.advance(std::chrono::milliseconds(wait % 4000));
    // Taken after the time passes: meanwhile the scripted failing units (d3
    // answers exceptions, d5 nothing) give up, are quarantined and retried on
    // their own, which is their fate, not the kill's.
    std::map<std::string, Pid> before;
    for (const auto& c : which_children(pollers)) before[c.id] = c.pid;
    const Pid tree = child_of(pollers, id);
    if (tree) {
      const char* parts[] = {"fsm", "connection", nullptr};
      const Pid target = parts[part % 3] ? child_of(tree, parts[part % 3]) : tree;
      if (target) {
        if (how % 2) {
          runtime.exit(target, ExitReason::kill());
        } else if (target == tree) {
          stop_supervisor(runtime, target, ExitReason::error("chaos"));
        } else {
          runtime.exit(target, ExitReason::error("chaos"));  // a crash signal from outside
        }
      }
    }
    runtime.settle();
    RC_ASSERT(edge.alive() && pollers.alive() && manager.alive());
    RC_ASSERT(child_of(edge, "pollers") == pollers);
    RC_ASSERT(child_of(edge, "config_manager") == manager);
    for (const auto& c : which_children(pollers)) {
      if (c.id == id || !before.count(c.id)) continue;  // the target's own fate is its own
      RC_ASSERT(before.at(c.id) == c.pid);
    }
    nlohmann::json d;
    manager.get()->behaviour()->describe(d);
    RC_ASSERT(d["devices_running"].get<unsigned>() + d["devices_quarantined"].get<unsigned>() == devices);
  }
  RC_ASSERT(modbus.reads.size() > 0u);  // the Modbus subtrees did poll through their sessions
  RC_TAG(steps.size() > 20 ? "long" : "short");
}

}  // namespace
}  // namespace edgepoll::pollers
