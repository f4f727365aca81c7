// The runtime's figures, printed as metric=value lines with the same names as
// the Erlang/OTP reference (bench/supervision/otp), so that run.sh can put them
// side by side. Single-threaded event loop, logging of reports off (as the OTP
// side silences its logger), a fresh supervisor every 100 restarts (as OTP).
//
//   supervision-bench [--samples N] [--children N] [--messages N]
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "edgepoll/supervision/supervisor.hpp"

using namespace edgepoll;
using namespace edgepoll::supervision;
using WallClock = std::chrono::steady_clock;

namespace {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(WallClock::now().time_since_epoch()).count();
}

void metric(const char* name, double value) { std::printf("edgepoll_%s=%.1f\n", name, value); }

// Records when its init ran: "replacement running".
class Timestamped final : public Behaviour {
 public:
  explicit Timestamped(std::int64_t* slot) : slot_(slot) {}
  InitResult init(Process&) override {
    *slot_ = now_ns();
    return InitResult::ok();
  }

 private:
  std::int64_t* slot_;
};

class Idle final : public Behaviour {};

void restart_latency(int samples) {
  boost::asio::io_context io;
  SteadyClock clock(io);
  Runtime rt(io, clock, false);
  std::int64_t started_at = 0;
  std::vector<std::int64_t> lat;
  lat.reserve(static_cast<std::size_t>(samples));
  ChildFactory make = [&](const ChildStart&) -> Result<std::shared_ptr<Behaviour>> {
    return std::shared_ptr<Behaviour>(std::make_shared<Timestamped>(&started_at));
  };
  auto run = [&](int n, bool record) {
    while (n > 0) {
      const int batch = std::min(n, 100);
      SupervisorSpec spec{{Strategy::one_for_one, 1000, 1}, {worker_child("worker", make)}};
      Pid sup = rt.spawn(std::make_shared<Supervisor>(std::move(spec)), "sup").value();
      for (int i = 0; i < batch; ++i) {
        Pid child = which_children(sup)[0].pid;
        const std::int64_t t0 = now_ns();
        rt.exit(child, ExitReason::kill());
        rt.settle();
        if (record) lat.push_back(started_at - t0);
      }
      rt.exit(sup, ExitReason::kill());
      rt.settle();
      n -= batch;
    }
  };
  run(1000, false);  // warm-up, as the OTP side
  run(samples, true);
  std::sort(lat.begin(), lat.end());
  double mean = 0;
  for (auto v : lat) mean += static_cast<double>(v);
  metric("restart_latency_samples", static_cast<double>(lat.size()));
  metric("restart_latency_median_ns", static_cast<double>(lat[lat.size() / 2]));
  metric("restart_latency_p99_ns", static_cast<double>(lat[lat.size() * 99 / 100]));
  metric("restart_latency_mean_ns", mean / static_cast<double>(lat.size()));
}

std::size_t heap_in_use() { return mallinfo2().uordblks; }

std::size_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

void start_and_memory(int children) {
  boost::asio::io_context io;
  SteadyClock clock(io);
  Runtime rt(io, clock, false);
  ChildFactory make = [](const ChildStart&) -> Result<std::shared_ptr<Behaviour>> {
    return std::shared_ptr<Behaviour>(std::make_shared<Idle>());
  };
  SupervisorSpec spec{{Strategy::simple_one_for_one, 1, 5}, {worker_child("device", make, Restart::temporary)}};
  Pid sup = rt.spawn(std::make_shared<Supervisor>(std::move(spec)), "pool").value();
  std::vector<std::string> ids;
  ids.reserve(static_cast<std::size_t>(children));
  for (int i = 0; i < children; ++i) ids.push_back("d" + std::to_string(i));
  malloc_trim(0);
  const std::size_t heap0 = heap_in_use();
  const std::size_t rss0 = rss_bytes();
  int started = 0;
  const std::int64_t t0 = now_ns();
  for (int i = 0; i < children; ++i) {
    start_child(rt, sup, ChildStart{ids[static_cast<std::size_t>(i)], {}, {}},
                [&](Result<Pid> r) { started += r.ok() ? 1 : 0; });
    if (i % 1024 == 0) rt.settle();  // keep the request queue short, like a caller waiting
  }
  rt.settle();
  const std::int64_t t1 = now_ns();
  const std::size_t heap1 = heap_in_use();
  const std::size_t rss1 = rss_bytes();
  if (started != children) std::fprintf(stderr, "only %d of %d started\n", started, children);
  metric("sofo_children", children);
  metric("start_children_total_ms", static_cast<double>(t1 - t0) / 1e6);
  metric("start_child_mean_ns", static_cast<double>(t1 - t0) / children);
  metric("memory_heap_per_child_bytes", static_cast<double>(heap1 - heap0) / children);
  metric("memory_rss_per_child_bytes", static_cast<double>(rss1 - rss0) / children);
  rt.exit(sup, ExitReason::kill());
  rt.settle();
}

struct Ping {
  Pid from;
  int left;
};

class Ponger final : public Behaviour {
 public:
  void handle(Process& self, Message& m) override {
    auto* p = std::any_cast<Ping>(&m);
    if (!p) return unexpected(self, m);
    if (p->left > 0) self.send(p->from, Ping{self.self(), p->left - 1});
  }
};

class Counter final : public Behaviour {
 public:
  explicit Counter(int* n) : n_(n) {}
  void handle(Process&, Message&) override { ++*n_; }

 private:
  int* n_;
};

void message_throughput(int messages) {
  boost::asio::io_context io;
  SteadyClock clock(io);
  Runtime rt(io, clock, false);
  Pid a = rt.spawn(std::make_shared<Ponger>(), "a").value();
  Pid b = rt.spawn(std::make_shared<Ponger>(), "b").value();
  std::int64_t t0 = now_ns();
  rt.send(a, Ping{b, 2 * messages});  // each round trip is two messages
  rt.settle();
  std::int64_t t1 = now_ns();
  metric("pingpong_roundtrips_per_s", messages / (static_cast<double>(t1 - t0) / 1e9));

  int received = 0;
  Pid c = rt.spawn(std::make_shared<Counter>(&received), "c").value();
  t0 = now_ns();
  for (int i = 0; i < messages; ++i) rt.send(c, i);
  rt.settle();
  t1 = now_ns();
  metric("oneway_messages_per_s", received / (static_cast<double>(t1 - t0) / 1e9));
}

}  // namespace

int main(int argc, char** argv) {
  int samples = 20000, children = 100000, messages = 1000000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--samples")) samples = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--children")) children = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--messages")) messages = std::atoi(argv[i + 1]);
  }
  restart_latency(samples);
  start_and_memory(children);
  message_throughput(messages);
  return 0;
}
