// The runtime on a real thread pool and a real clock: many processes crashing,
// restarting and being started and stopped from outside at the same time.
// Meant for the TSan and ASan builds; asserts on conditions with deadlines,
// never on timings.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>

#include "support/wait_for.hpp"
#include "test_support.hpp"

namespace edgepoll::supervision {
namespace {
using namespace testing;
using namespace std::chrono_literals;

class ThreadedNode {
 public:
  explicit ThreadedNode(int threads) : clock(io), runtime(io, clock, false), guard(io.get_executor()) {
    for (int i = 0; i < threads; ++i) pool.emplace_back([this] { io.run(); });
  }
  ~ThreadedNode() {
    guard.reset();
    io.stop();
    for (auto& t : pool) t.join();
  }
  // Waits (bounded) for a condition that the runtime makes true asynchronously.
  template <class Pred>
  bool eventually(Pred pred, std::chrono::seconds limit = 30s) {
    return edgepoll::testing::wait_for(std::move(pred), limit, std::chrono::milliseconds(1));
  }

  boost::asio::io_context io;
  SteadyClock clock;
  Runtime runtime;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard;
  std::vector<std::thread> pool;
};

TEST(Concurrency, CrashesRestartsAndApiCallsFromManyThreads) {
  ThreadedNode node(4);
  auto pool_spec = SupervisorSpec{{Strategy::simple_one_for_one, 1000000, 5},
                                  {worker_child("device", worker_factory(), Restart::permanent)}};
  auto root_spec = SupervisorSpec{{Strategy::one_for_one, 10, 5},
                                  {supervisor_child("pool", std::move(pool_spec)),
                                   worker_child("other", worker_factory())}};
  Pid root = node.runtime.spawn(std::make_shared<Supervisor>(std::move(root_spec)), "root").value();
  Pid pool = which_children(root)[0].pid;

  constexpr int kDevices = 200;
  std::atomic<int> started{0};
  for (int i = 0; i < kDevices; ++i) {
    start_child(node.runtime, pool, ChildStart{"d" + std::to_string(i), {}, {}},
                [&](Result<Pid> r) { started += r.ok() ? 1 : 0; });
  }
  ASSERT_TRUE(node.eventually([&] { return started == kDevices; }));

  // Two outside threads crash, kill and message random devices while a third
  // starts and terminates extra ones.
  auto chaos = [&](unsigned seed) {
    std::mt19937 rng(seed);
    for (int i = 0; i < 2000; ++i) {
      auto children = which_children(pool);
      if (children.empty()) continue;
      const auto& c = children[rng() % children.size()];
      switch (rng() % 3) {
        case 0: node.runtime.send(c.pid, ExitWith{ExitReason::error("chaos")}); break;
        case 1: node.runtime.exit(c.pid, ExitReason::kill()); break;
        default: node.runtime.send(c.pid, std::string("ping")); break;
      }
    }
  };
  std::atomic<int> churn_ok{0};
  auto churn = [&] {
    for (int i = 0; i < 200; ++i) {
      const std::string id = "extra" + std::to_string(i);
      start_child(node.runtime, pool, ChildStart{id, {}, {}}, [](Result<Pid>) {});
      terminate_child(node.runtime, pool, id, [&](Status s) { churn_ok += s.ok() ? 1 : 0; });
    }
  };
  std::thread t1(chaos, 1), t2(chaos, 2), t3(churn);
  t1.join();
  t2.join();
  t3.join();

  EXPECT_TRUE(node.eventually([&] { return churn_ok == 200; }));
  // Every permanent device is running again and nothing else was touched.
  EXPECT_TRUE(node.eventually([&] {
    auto n = count_children(pool);
    return n.specs == kDevices && n.active == kDevices;
  }));
  EXPECT_TRUE(root.alive());
  EXPECT_EQ(which_children(root)[0].pid, pool);

  stop_supervisor(node.runtime, root, ExitReason::shutdown());
  EXPECT_TRUE(node.eventually([&] { return node.runtime.live_processes() == 0; }));
}

TEST(Concurrency, RegistryUnderConcurrentDeaths) {
  ThreadedNode node(2);
  std::vector<Pid> pids;
  for (int i = 0; i < 100; ++i) {
    pids.push_back(node.runtime.spawn(std::make_shared<TestWorker>(), "w").value());
    node.runtime.registry().join("group", pids.back());
    ASSERT_TRUE(node.runtime.registry().register_name("w" + std::to_string(i), pids.back()).ok());
  }
  std::thread killer([&] {
    for (auto& p : pids) node.runtime.exit(p, ExitReason::kill());
  });
  std::thread reader([&] {
    for (int i = 0; i < 1000; ++i) {
      for (const auto& m : node.runtime.registry().members("group")) (void)m.path();
    }
  });
  killer.join();
  reader.join();
  EXPECT_TRUE(node.eventually([&] { return node.runtime.live_processes() == 0; }));
  EXPECT_TRUE(node.runtime.registry().members("group").empty());
  EXPECT_FALSE(node.runtime.registry().whereis("w7").has_value());
}

}  // namespace
}  // namespace edgepoll::supervision
