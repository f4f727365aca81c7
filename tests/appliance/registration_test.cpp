// The registration worker on a FakeClock against a real etcd: the test moves
// time tick by tick and, after each tick, runs the loop until the worker's
// request to etcd is answered, then checks etcd itself.
#include "edgepoll/appliance/registration.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "edgepoll/supervision/runtime.hpp"
#include "edgepoll/supervision/supervisor.hpp"
#include "edgepoll/version.hpp"
#include "support/etcd_server.hpp"

namespace edgepoll::appliance {
namespace {
using namespace supervision;
using namespace std::chrono_literals;
using testing::etcd_get;
using testing::EtcdServer;

struct Poke {};
class Crashy final : public Behaviour {
 public:
  void handle(Process& self, Message&) override { self.exit(ExitReason::error("poked")); }
};

// root (one_for_one) over deps (one_for_one: a worker that crashes when poked)
// and the registration worker, which watches root/deps.
struct Node {
  explicit Node(std::vector<std::string> endpoints, std::chrono::seconds ttl = 3s)
      : runtime(io, clock, false) {
    config.endpoints = std::move(endpoints);
    config.prefix = "/test";
    config.ttl = ttl;
    config.deregister_after = 2s;
    config.reregister_after = 5s;
    config.watch = {"root/deps"};
    RegistrationSources s;
    s.node_id = "node-a";
    s.readiness = [this] {
      return ReadinessVerdict{ready,
                              ready ? "" : "kafka: oldest unacknowledged reading 94 s (max 60 s)"};
    };
    s.status = status;
    s.counters = counters;
    s.advertise = [] { return std::string("127.0.0.1:8470"); };
    s.device_count = [this] { return devices; };
    worker = std::make_shared<RegistrationWorker>(config, s);
    ChildFactory crashy = [](const ChildStart&) -> Result<std::shared_ptr<Behaviour>> {
      return std::shared_ptr<Behaviour>(std::make_shared<Crashy>());
    };
    ChildFactory reg = [w = worker](const ChildStart&) -> Result<std::shared_ptr<Behaviour>> {
      return std::shared_ptr<Behaviour>(w);
    };
    SupervisorSpec deps{{Strategy::one_for_one, 100, 60}, {worker_child("crashy", crashy)}};
    SupervisorSpec spec{
        {Strategy::one_for_one, 10, 60},
        {supervisor_child("deps", deps), worker_child("registration", reg, Restart::temporary)}};
    root = runtime.spawn(std::make_shared<Supervisor>(spec), "root").value();
    if (!runtime.registry().register_name("root", root).ok())
      throw std::runtime_error("root name taken");
  }
  ~Node() {
    runtime.exit(root, ExitReason::kill());
    runtime.settle();
  }

  // One tick of fake time, then the loop until etcd has answered.
  void tick() {
    runtime.advance(RegistrationWorker::kTick);
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (worker->waiting_for_etcd() && std::chrono::steady_clock::now() < deadline) {
      io.restart();
      io.run_one_for(10ms);
      runtime.settle();
    }
    if (worker->waiting_for_etcd()) throw std::runtime_error("etcd did not answer within 10 s");
  }
  void run_for(Duration d) {
    for (Duration t{}; t < d; t += RegistrationWorker::kTick) tick();
  }
  // Ticks until `pred` holds, at most `limit` of fake time; the fake time it took.
  template <class Pred>
  std::optional<Duration> ticks_until(Pred pred, Duration limit) {
    const TimePoint start = clock.now();
    while (!pred()) {
      if (clock.now() - start > limit) return std::nullopt;
      tick();
    }
    return clock.now() - start;
  }
  std::string state() const { return status->get().state; }
  void crash_deps_worker() {
    runtime.send(find_in_tree(root, "root/deps/crashy"), Poke{});
    runtime.settle();
  }

  boost::asio::io_context io;
  FakeClock clock;
  Runtime runtime;
  RegistrationConfig config;
  bool ready = true;
  std::size_t devices = 7;
  std::shared_ptr<RegistrationStatus> status = std::make_shared<RegistrationStatus>();
  std::shared_ptr<RegistrationCounters> counters = std::make_shared<RegistrationCounters>();
  std::shared_ptr<RegistrationWorker> worker;
  Pid root;
};

const std::string kKey = "/test/nodes/node-a";

TEST(Registration, RegistersAtOnceWithIdAddressHealthUrlVersionAndDeviceCount) {
  EtcdServer etcd;
  Node node({etcd.endpoint()});
  ASSERT_TRUE(node.ticks_until([&] { return node.state() == "registered"; }, 1s));
  const auto value = etcd_get(etcd.endpoint(), kKey);
  ASSERT_TRUE(value);
  const auto v = nlohmann::json::parse(*value);
  EXPECT_EQ(v["id"], "node-a");
  EXPECT_EQ(v["address"], "127.0.0.1:8470");
  EXPECT_EQ(v["health_url"], "http://127.0.0.1:8470/health");
  EXPECT_EQ(v["version"], std::string(edgepoll::kVersion));
  EXPECT_EQ(v["devices"], 7);
  EXPECT_EQ(node.status->get().key, kKey);
  EXPECT_EQ(node.counters->registered.load(), 1u);
}

int devices_in_key(const std::string& endpoint) {
  const auto v = etcd_get(endpoint, kKey);
  return v ? nlohmann::json::parse(*v).value("devices", -1) : -1;
}

TEST(Registration, ADeviceCountThatChangesIsPutAfterTheNextKeepaliveNotAtOnce) {
  EtcdServer etcd;
  Node node({etcd.endpoint()}, 6s);  // keepalive every 2 s
  ASSERT_TRUE(node.ticks_until([&] { return node.state() == "registered"; }, 1s));
  node.run_for(1s);
  node.devices = 8;
  node.tick();
  node.devices = 9;
  node.tick();
  EXPECT_EQ(devices_in_key(etcd.endpoint()), 7);  // device churn does not become a put per change
  ASSERT_TRUE(node.ticks_until([&] { return devices_in_key(etcd.endpoint()) == 9; }, 2s));
  EXPECT_EQ(node.state(), "registered");
}

TEST(Registration,
     ReadinessFailingDeregistersAfterDeregisterAfterAndHoldingReregistersAfterReregisterAfter) {
  EtcdServer etcd;
  Node node({etcd.endpoint()});
  ASSERT_TRUE(node.ticks_until([&] { return node.state() == "registered"; }, 1s));

  node.ready = false;
  node.run_for(node.config.deregister_after - RegistrationWorker::kTick);
  EXPECT_EQ(node.state(), "registered");  // a blip shorter than deregister_after changes nothing
  EXPECT_TRUE(etcd_get(etcd.endpoint(), kKey));
  ASSERT_TRUE(node.ticks_until([&] { return node.state() == "deregistered"; }, 1s));
  EXPECT_FALSE(etcd_get(etcd.endpoint(), kKey));  // revoked, not left to expire
  EXPECT_NE(node.status->get().reason.find("kafka: oldest unacknowledged reading"),
            std::string::npos)
      << node.status->get().reason;

  node.ready = true;
  node.run_for(node.config.reregister_after - RegistrationWorker::kTick);
  EXPECT_EQ(node.state(), "deregistered");  // not before readiness held for reregister_after
  EXPECT_FALSE(etcd_get(etcd.endpoint(), kKey));
  ASSERT_TRUE(node.ticks_until([&] { return node.state() == "registered"; }, 1s));
  EXPECT_TRUE(etcd_get(etcd.endpoint(), kKey));
  EXPECT_EQ(node.counters->registered.load(), 2u);
  EXPECT_EQ(node.counters->deregistered.load(), 1u);
}

TEST(Registration, AWatchedSubtreeRestartingPastTheRateDeregistersWithinASecond) {
  EtcdServer etcd;
  Node node({etcd.endpoint()});
  ASSERT_TRUE(node.ticks_until([&] { return node.state() == "registered"; }, 1s));
  node.crash_deps_worker();
  node.crash_deps_worker();
  node.run_for(2s);
  EXPECT_EQ(node.state(), "registered");  // two restarts are within the rate
  node.crash_deps_worker();
  ASSERT_TRUE(node.ticks_until([&] { return node.state() == "deregistered"; }, 1s));
  EXPECT_FALSE(etcd_get(etcd.endpoint(), kKey));
  EXPECT_NE(node.status->get().reason.find("root/deps restarted 3 times"), std::string::npos)
      << node.status->get().reason;
  // Once the restarts are older than the window and readiness held, it is back.
  ASSERT_TRUE(node.ticks_until([&] { return node.state() == "registered"; },
                               30s + node.config.reregister_after + 1s));
  EXPECT_TRUE(etcd_get(etcd.endpoint(), kKey));
}

TEST(Registration, AWatchedSubtreeDownDeregistersWithinASecond) {
  EtcdServer etcd;
  Node node({etcd.endpoint()});
  ASSERT_TRUE(node.ticks_until([&] { return node.state() == "registered"; }, 1s));
  std::optional<Status> stopped;
  terminate_child(node.runtime, node.root, "deps", [&](Status s) { stopped = s; });
  node.runtime.settle();
  ASSERT_TRUE(stopped && stopped->ok());
  ASSERT_TRUE(node.ticks_until([&] { return node.state() == "deregistered"; }, 1s));
  EXPECT_EQ(node.status->get().reason, "root/deps is not running");
  EXPECT_FALSE(etcd_get(etcd.endpoint(), kKey));
}

TEST(Registration, EtcdDownIsRetriedWithBackoffAndTheNodeRegistersWhenItIsBack) {
  EtcdServer etcd;
  Node node({etcd.endpoint()}, 30s);  // backoff ceiling ttl/3 = 10 s
  ASSERT_TRUE(node.ticks_until([&] { return node.state() == "registered"; }, 1s));
  etcd.stop();
  // The next keepalive (at ttl/3) fails; then retries back off.
  ASSERT_TRUE(node.ticks_until([&] { return node.state() == "unreachable"; }, 11s));
  const auto errors_before = node.counters->etcd_errors.load();
  node.run_for(20s);  // 80 ticks
  const auto retries = node.counters->etcd_errors.load() - errors_before;
  EXPECT_GE(retries, 2u);
  EXPECT_LE(retries, 20u) << "a retry at every tick is no backoff";
  EXPECT_NE(node.status->get().reason.find("lease keepalive"), std::string::npos)
      << node.status->get().reason;

  etcd.start();
  // Held past its TTL without keepalive, the lease is given up and a new one granted.
  ASSERT_TRUE(node.ticks_until([&] { return node.state() == "registered"; }, 15s));
  EXPECT_TRUE(etcd_get(etcd.endpoint(), kKey));
  EXPECT_EQ(node.counters->registered.load(), 2u);
}

TEST(Registration, NoEtcdAtBootIsUnreachableNotACrash) {
  Node node({"http://127.0.0.1:" + std::to_string(testing::free_loopback_port())});
  ASSERT_TRUE(node.ticks_until([&] { return node.state() == "unreachable"; }, 1s));
  node.run_for(5s);
  EXPECT_EQ(node.state(), "unreachable");
  EXPECT_TRUE(find_in_tree(node.root, "root/registration"));
  EXPECT_NE(node.status->get().reason.find("lease grant: no etcd endpoint answered"),
            std::string::npos)
      << node.status->get().reason;
}

}  // namespace
}  // namespace edgepoll::appliance
