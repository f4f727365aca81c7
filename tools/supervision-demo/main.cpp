// supervision-demo: the shape of edgepoll's tree (docs/architecture.md) with
// placeholder workers, on the real clock. One device answers garbage and
// crashes every poll: its own subtree restarts it three times, then gives up
// and dies alone while the other devices keep polling. The log shows every
// start, crash, restart and the give-up; the tree snapshot is printed at the end.
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <iostream>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "edgepoll/supervision/supervisor.hpp"

using namespace edgepoll;
using namespace edgepoll::supervision;
using namespace std::chrono_literals;

namespace {

struct Tick {};

// Polls on a timer; a "garbage" device throws on every poll (a decode failure
// escaping as an exception is a crash of this process only).
class FakeDevice final : public Behaviour {
 public:
  FakeDevice(std::string id, bool garbage) : id_(std::move(id)), garbage_(garbage) {}
  InitResult init(Process& self) override {
    self.send_after(300ms, Tick{});
    return InitResult::ok();
  }
  void handle(Process& self, Message& m) override {
    if (!std::any_cast<Tick>(&m)) return unexpected(self, m);
    if (garbage_) throw std::runtime_error("device " + id_ + " sent garbage: '\\xff\\xfe{'");
    ++polls_;
    self.send_after(300ms, Tick{});
  }

 private:
  std::string id_;
  bool garbage_;
  int polls_ = 0;
};

class Placeholder final : public Behaviour {};

ChildFactory placeholder() {
  return [](const ChildStart&) -> Result<std::shared_ptr<Behaviour>> {
    return std::shared_ptr<Behaviour>(std::make_shared<Placeholder>());
  };
}

SupervisorSpec device_subtree(bool garbage) {
  // connection/fsm is rest_for_one: if the connection dies the FSM keeps its
  // state; if the FSM dies, the connection follows. Tight intensity: 3 in 30 s.
  ChildFactory fsm = [garbage](const ChildStart& s) -> Result<std::shared_ptr<Behaviour>> {
    return std::shared_ptr<Behaviour>(std::make_shared<FakeDevice>(s.parent_path, garbage));
  };
  return SupervisorSpec{{Strategy::rest_for_one, 3, 30},
                        {worker_child("connection", placeholder()), worker_child("fsm", fsm)}};
}

SupervisorSpec tree(int devices) {
  SupervisorSpec deps{{Strategy::one_for_one, 5, 10},
                      {worker_child("storage_pool", placeholder()),
                       worker_child("kafka_pool", placeholder()), worker_child("metrics", placeholder())}};
  // Each device is its own TEMPORARY subtree: when it exhausts its intensity
  // it dies alone; the config manager decides when to try it again.
  ChildFactory device = [](const ChildStart& s) -> Result<std::shared_ptr<Behaviour>> {
    const bool garbage = std::any_cast<bool>(s.args);
    return std::shared_ptr<Behaviour>(std::make_shared<Supervisor>(device_subtree(garbage)));
  };
  ChildSpec device_spec{"device", device, Restart::temporary, Shutdown::infinity(), ChildType::supervisor};
  SupervisorSpec pollers{{Strategy::simple_one_for_one, 10, 10}, {device_spec}};
  // edge is rest_for_one: pollers are meaningless without the config cache.
  SupervisorSpec edge{{Strategy::rest_for_one, 5, 10},
                      {worker_child("config_cache", placeholder()), supervisor_child("pollers", pollers),
                       worker_child("config_manager", placeholder())}};
  SupervisorSpec health{{Strategy::one_for_one, 5, 10},
                        {worker_child("http_endpoint", placeholder()), worker_child("registration", placeholder()),
                         worker_child("watchdog", placeholder())}};
  (void)devices;
  return SupervisorSpec{{Strategy::one_for_one, 5, 10},
                        {worker_child("prerequisites", placeholder(), Restart::transient),
                         supervisor_child("deps", deps), supervisor_child("edge", edge),
                         supervisor_child("health", health)}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Runs a demo supervision tree shaped like edgepoll's, with one garbage device"};
  int devices = 5;
  double seconds = 3.0;
  app.add_option("--devices", devices, "number of devices (device 0 sends garbage)")->check(CLI::Range(1, 10000));
  app.add_option("--seconds", seconds, "how long to run")->check(CLI::Range(0.1, 3600.0));
  CLI11_PARSE(app, argc, argv);

  boost::asio::io_context io;
  SteadyClock clock(io);
  Runtime runtime(io, clock);
  auto root = runtime.spawn(std::make_shared<Supervisor>(tree(devices)), "root");
  if (!root.ok()) {
    spdlog::critical("the tree did not start: {}", root.error().describe());
    return 1;
  }
  Pid pollers;
  for (const auto& edge_child : which_children(which_children(root.value())[2].pid)) {
    if (edge_child.id == "pollers") pollers = edge_child.pid;
  }
  for (int i = 0; i < devices; ++i) {
    start_child(runtime, pollers, ChildStart{"device:" + std::to_string(i), i == 0, {}}, [](Result<Pid>) {});
  }
  io.run_for(std::chrono::milliseconds(static_cast<long>(seconds * 1000)));
  const auto counts = count_children(pollers);
  spdlog::info("after {:.1f} s: {} of {} devices running; pollers and root never restarted", seconds,
               counts.active, devices);
  std::cout << tree_snapshot(root.value()).dump(2) << "\n";
  return counts.active == static_cast<std::size_t>(devices - 1) ? 0 : 1;
}
