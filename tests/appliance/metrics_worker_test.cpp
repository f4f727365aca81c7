// The metrics worker owns the node's registry: on the board while it runs, off
// it when it stops, and a restarted worker's new registry carries the totals on
// from the subsystems' own counters. FakeClock runtime, no store (no readers).
#include "edgepoll/appliance/metrics_worker.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "supervision/test_support.hpp"

namespace edgepoll::appliance {
namespace {
using namespace supervision;
using supervision::testing::TestNode;

// The value of one series in a render; -1 when absent.
double value(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  return -1;
}

struct Node : TestNode {
  Node() {
    runtime.add_observer(supervision);
    MetricsWorkerSources s;
    s.board = board;
    s.subsystems.pollers = pollers;
    s.supervision = supervision;
    ChildFactory make = [s](const ChildStart&) -> Result<std::shared_ptr<Behaviour>> {
      return std::shared_ptr<Behaviour>(std::make_shared<MetricsWorker>(s));
    };
    root = start_root({{Strategy::one_for_one, 3, 5}, {worker_child("metrics", make)}});
  }
  std::string render() {
    auto m = board->get();
    return m ? m->render() : "";
  }
  std::shared_ptr<MetricsBoard> board = std::make_shared<MetricsBoard>();
  std::shared_ptr<pollers::PollerCounters> pollers = std::make_shared<pollers::PollerCounters>();
  std::shared_ptr<SupervisionEventCounts> supervision = std::make_shared<SupervisionEventCounts>();
  Pid root;
};

TEST(MetricsWorker, ItsRegistryIsOnTheBoardWhileItRunsAndGoesWithIt) {
  Node node;
  node.pollers->polls = 5;
  const auto first = node.board->get();
  ASSERT_TRUE(first) << "no registry on the board after the worker's init";
  const auto text = node.render();
  EXPECT_EQ(value(text, "edgepoll_polls_total"), 5) << text;
  EXPECT_NE(text.find("edgepoll_build_info{version="), std::string::npos) << text;
  EXPECT_EQ(value(text, "edgepoll_outbox_readings"), 0) << text;  // a node gauge, before any sample

  stop_supervisor(node.runtime, node.root, ExitReason::shutdown());
  node.settle();
  EXPECT_FALSE(node.board->get()) << "the registry outlived its worker on the board";
}

TEST(MetricsWorker, ARestartedWorkersNewRegistryCarriesTheTotalsOn) {
  Node node;
  node.pollers->polls = 5;
  (void)node.render();
  const auto first = node.board->get();
  node.kill(node.child(node.root, "metrics"));
  const auto second = node.board->get();
  ASSERT_TRUE(second);
  EXPECT_NE(second, first) << "the restarted worker did not make its own registry";
  node.pollers->polls = 7;
  const auto text = node.render();
  EXPECT_EQ(value(text, "edgepoll_polls_total"), 7) << text;
  // The kill happened before this registry existed, and is counted in it.
  EXPECT_EQ(value(text, "edgepoll_supervision_events_total{event=\"crash\"}"), 1) << text;
  EXPECT_EQ(value(text, "edgepoll_supervision_events_total{event=\"child_restarted\"}"), 1) << text;
  stop_supervisor(node.runtime, node.root, ExitReason::shutdown());
  node.settle();
}

}  // namespace
}  // namespace edgepoll::appliance
