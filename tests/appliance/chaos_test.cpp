// The chaos hook's pieces: its requests (validated like config), [chaos], the
// gate that refuses it in production, the FaultSwitch the seams read, and the
// executor against a real runtime (a process it crashes is restarted).
#include <cstdlib>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "edgepoll/appliance/app_config.hpp"
#include "edgepoll/appliance/chaos.hpp"
#include "edgepoll/appliance/control_request.hpp"
#include "edgepoll/appliance/test_hooks.hpp"
#include "edgepoll/supervision/supervisor.hpp"

namespace edgepoll::appliance {
namespace {

using namespace std::chrono_literals;
using supervision::FaultSwitch;

std::string code_of(std::string_view line) {
  auto r = ControlRequest::parse(line);
  return r.ok() ? "ok" : r.error().code;
}

TEST(ChaosRequest, ListExitAndFailAreParsed) {
  EXPECT_EQ(ControlRequest::parse(R"({"op": "chaos.list"})")->op, ControlOp::chaos_list);
  auto exit = ControlRequest::parse(R"({"op": "chaos.exit", "path": "root/deps/storage_pool", "reason": "kill"})");
  ASSERT_TRUE(exit.ok()) << exit.error().describe();
  EXPECT_EQ(exit->op, ControlOp::chaos_exit);
  EXPECT_EQ(exit->path, "root/deps/storage_pool");
  EXPECT_EQ(exit->exit, ChaosExit::kill);
  EXPECT_EQ(ControlRequest::parse(R"({"op": "chaos.exit", "path": "a", "reason": "crash"})")->exit, ChaosExit::crash);
  EXPECT_EQ(ControlRequest::parse(R"({"op": "chaos.exit", "path": "a", "reason": "shutdown"})")->exit,
            ChaosExit::shutdown);
  auto fail = ControlRequest::parse(R"({"op": "chaos.fail", "dependency": "device.connection", "device": "m-1", "duration": "250ms"})");
  ASSERT_TRUE(fail.ok()) << fail.error().describe();
  EXPECT_EQ(fail->fault, ChaosFault::device_connection);
  EXPECT_EQ(fail->device, "m-1");
  EXPECT_EQ(fail->duration, 250ms);
  EXPECT_EQ(ControlRequest::parse(R"({"op": "chaos.fail", "dependency": "storage.disk_full", "duration": "2m"})")->duration,
            120s);
  EXPECT_EQ(ControlRequest::parse(R"({"op": "chaos.fail", "dependency": "kafka.broker_error", "duration": "1h"})")->fault,
            ChaosFault::kafka_broker_error);
}

TEST(ChaosRequest, BadRequestsAreRefusedByName) {
  EXPECT_EQ(code_of(R"({"op": "chaos.list", "path": "root"})"), "control.unknown_field");
  EXPECT_EQ(code_of(R"({"op": "chaos.exit", "reason": "kill"})"), "control.missing_field");
  EXPECT_EQ(code_of(R"({"op": "chaos.exit", "path": "root"})"), "control.missing_field");
  auto reason = ControlRequest::parse(R"({"op": "chaos.exit", "path": "root", "reason": "explode"})");
  ASSERT_FALSE(reason.ok());
  EXPECT_EQ(reason.error().code, "control.value");
  EXPECT_NE(reason.error().message.find("expected one of: crash, kill, shutdown"), std::string::npos);
  EXPECT_EQ(code_of(R"({"op": "chaos.fail", "dependency": "etcd.down", "duration": "1s"})"), "control.value");
  EXPECT_EQ(code_of(R"({"op": "chaos.fail", "dependency": "storage.busy"})"), "control.missing_field");
  for (const char* d : {"0s", "2h", "-1s", "5", "s", "5 s", "1.5s", "99999999999999999999s"}) {
    EXPECT_EQ(code_of(std::string(R"({"op": "chaos.fail", "dependency": "storage.busy", "duration": ")") + d + "\"}"),
              "control.value")
        << d;
  }
  // A device names the target of device.connection only.
  EXPECT_EQ(code_of(R"({"op": "chaos.fail", "dependency": "storage.busy", "device": "m-1", "duration": "1s"})"),
            "control.unknown_field");
  EXPECT_EQ(code_of(R"({"op": "chaos.fail", "dependency": "device.connection", "device": 3, "duration": "1s"})"),
            "control.type");
}

TEST(ChaosConfig, OffByDefaultAndValidatedLikeEverySection) {
  auto plain = AppConfig::parse("[storage]\npath = \"/tmp/x.db\"\n", "e.toml");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->chaos.enabled);
  auto on = AppConfig::parse("[chaos]\nenabled = true\n", "e.toml");
  ASSERT_TRUE(on.ok());
  EXPECT_TRUE(on->chaos.enabled);
  auto typo = AppConfig::parse("[chaos]\nenable = true\n", "e.toml");
  ASSERT_FALSE(typo.ok());
  EXPECT_EQ(typo.error().message, "e.toml: [chaos] line 2: unknown key \"enable\" (expected one of: enabled)");
  auto text = AppConfig::parse("[chaos]\nenabled = \"yes\"\n", "e.toml");
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error().message, "e.toml: [chaos] enabled (line 2): expected true or false");
}

// Sets an environment variable for one test and puts the old value back.
struct ScopedEnv {
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) setenv(name, value, 1);
    else unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_) setenv(name_, old_->c_str(), 1);
    else unsetenv(name_);
  }
  const char* name_;
  std::optional<std::string> old_;
};

TEST(FaultInjectionGate, RefusedUnderSystemdUnlessExplicitlyAllowed) {
  ScopedEnv allow("EDGEPOLL_ALLOW_FAULT_INJECTION", nullptr);
  {
    ScopedEnv invocation("INVOCATION_ID", nullptr);
    EXPECT_TRUE(fault_injection_allowed("chaos.refused", "[chaos] enabled = true", "remove it").ok());
  }
  ScopedEnv invocation("INVOCATION_ID", "0123456789abcdef");
  auto refused = fault_injection_allowed("chaos.refused", "e.toml: [chaos] enabled = true", "remove the [chaos] section");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "chaos.refused");
  EXPECT_NE(refused.error().message.find("e.toml: [chaos] enabled = true, but this daemon runs under systemd"),
            std::string::npos);
  EXPECT_NE(refused.error().hint.find("EDGEPOLL_ALLOW_FAULT_INJECTION=1"), std::string::npos);
  {
    ScopedEnv almost("EDGEPOLL_ALLOW_FAULT_INJECTION", "yes");  // only "1" opens the gate
    EXPECT_FALSE(fault_injection_allowed("chaos.refused", "x", "y").ok());
  }
  ScopedEnv opened("EDGEPOLL_ALLOW_FAULT_INJECTION", "1");
  EXPECT_TRUE(fault_injection_allowed("chaos.refused", "x", "y").ok());
  // The test hooks go through the same gate.
  ScopedEnv hooks("EDGEPOLL_TEST_HOOKS", "/tmp/hooks");
  EXPECT_TRUE(TestHooks::file_from_environment().ok());
}

TEST(FaultInjectionGate, TestHooksAreRefusedUnderSystemd) {
  ScopedEnv allow("EDGEPOLL_ALLOW_FAULT_INJECTION", nullptr);
  ScopedEnv invocation("INVOCATION_ID", "0123456789abcdef");
  ScopedEnv hooks("EDGEPOLL_TEST_HOOKS", "/tmp/hooks");
  auto r = TestHooks::file_from_environment();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "test_hooks.refused");
}

TEST(FaultSwitch, AFaultHoldsForItsTargetOrEveryoneUntilItEnds) {
  FaultSwitch faults;
  const supervision::TimePoint t0{std::chrono::seconds(100)};
  EXPECT_FALSE(faults.active("storage", "", t0));
  faults.set("device", "m-1", make_error("pollers.http.reset", "x", true), t0 + 5s);
  EXPECT_TRUE(faults.active("device", "m-1", t0 + 4s));
  EXPECT_FALSE(faults.active("device", "m-2", t0 + 4s));  // another device is not affected
  EXPECT_FALSE(faults.active("storage", "m-1", t0 + 4s));  // nor another seam
  EXPECT_FALSE(faults.active("device", "m-1", t0 + 5s));   // over at its end
  faults.set("device", "", make_error("pollers.http.reset", "all", true), t0 + 10s);
  auto any = faults.active("device", "m-2", t0 + 1s);
  ASSERT_TRUE(any);
  EXPECT_EQ(any->message, "all");
  faults.clear("device", "");
  EXPECT_FALSE(faults.active("device", "m-2", t0 + 1s));
}

class Idle final : public supervision::Behaviour {
 public:
  supervision::InitResult init(supervision::Process&) override { return supervision::InitResult::ok(); }
  void handle(supervision::Process& self, supervision::Message& m) override { unexpected(self, m); }
};

struct SmallTree : ::testing::Test {
  SmallTree() : clock(io), runtime(io, clock) {
    using namespace supervision;
    ChildFactory idle = [](const ChildStart&) -> Result<std::shared_ptr<Behaviour>> {
      return std::shared_ptr<Behaviour>(std::make_shared<Idle>());
    };
    SupervisorSpec spec{{Strategy::one_for_one, 5, 30}, {worker_child("a", idle), worker_child("b", idle)}};
    root = runtime.spawn(std::make_shared<Supervisor>(spec), "root").value();
    (void)runtime.registry().register_name("root", root);
    io.poll();
  }
  ~SmallTree() override {
    supervision::stop_supervisor(runtime, root, supervision::ExitReason::shutdown());
    io.restart();
    io.run_for(1s);
  }
  std::uint64_t pid_of(const std::string& path) {
    auto p = supervision::find_in_tree(root, path);
    return p ? p.id() : 0;
  }
  nlohmann::json ask(const std::string& line) { return chaos.execute(ControlRequest::parse(line).value()); }

  boost::asio::io_context io;
  supervision::SteadyClock clock;
  supervision::Runtime runtime;
  supervision::Pid root;
  std::shared_ptr<FaultSwitch> faults = std::make_shared<FaultSwitch>();
  Chaos chaos{runtime, "root", faults};
};

TEST_F(SmallTree, ListNamesEveryProcessWithItsPid) {
  const auto answer = ask(R"({"op": "chaos.list"})");
  ASSERT_TRUE(answer["ok"]);
  std::map<std::string, std::uint64_t> seen;
  for (const auto& p : answer["processes"]) seen[p["path"]] = p["pid"];
  EXPECT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen["root/a"], pid_of("root/a"));
  EXPECT_EQ(seen["root/b"], pid_of("root/b"));
  EXPECT_EQ(seen["root"], root.id());
}

TEST_F(SmallTree, EachExitReasonEndsTheProcessAndItsSupervisorRestartsIt) {
  for (const char* reason : {"crash", "kill", "shutdown"}) {
    const auto before_a = pid_of("root/a"), before_b = pid_of("root/b");
    const auto answer = ask(std::string(R"({"op": "chaos.exit", "path": "root/a", "reason": ")") + reason + "\"}");
    ASSERT_TRUE(answer["ok"]) << answer.dump();
    EXPECT_EQ(answer["pid"], before_a);
    for (int i = 0; i < 100 && (pid_of("root/a") == before_a || pid_of("root/a") == 0); ++i) {
      io.restart();  // the loop stops whenever it runs out of work
      io.run_for(10ms);
    }
    EXPECT_NE(pid_of("root/a"), before_a) << reason;
    EXPECT_NE(pid_of("root/a"), 0u) << reason;
    EXPECT_EQ(pid_of("root/b"), before_b) << reason;  // one_for_one: the sibling lives on
  }
}

TEST_F(SmallTree, AnUnknownPathIsANamedError) {
  const auto answer = ask(R"({"op": "chaos.exit", "path": "root/zz", "reason": "kill"})");
  EXPECT_FALSE(answer["ok"]);
  EXPECT_EQ(answer["error"]["code"], "chaos.no_process");
}

TEST_F(SmallTree, FailSetsTheFaultAtItsSeamForItsDuration) {
  const auto answer = ask(R"({"op": "chaos.fail", "dependency": "device.connection", "device": "m-1", "duration": "10s"})");
  ASSERT_TRUE(answer["ok"]) << answer.dump();
  auto fault = faults->active("device", "m-1", clock.now());
  ASSERT_TRUE(fault);
  EXPECT_EQ(fault->code, "pollers.http.reset");
  EXPECT_FALSE(faults->active("device", "m-1", clock.now() + 11s));
  ASSERT_TRUE(ask(R"({"op": "chaos.fail", "dependency": "storage.disk_full", "duration": "1s"})")["ok"]);
  EXPECT_EQ(faults->active("storage", "", clock.now())->code, "storage.disk_full");
  ASSERT_TRUE(ask(R"({"op": "chaos.fail", "dependency": "kafka.broker_error", "duration": "1s"})")["ok"]);
  auto broker = faults->active("kafka", "", clock.now());
  ASSERT_TRUE(broker);
  EXPECT_TRUE(broker->retryable);  // the drainer backs off and sends again
}

}  // namespace
}  // namespace edgepoll::appliance
