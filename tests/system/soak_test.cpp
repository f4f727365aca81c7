// The soak: 2,000 devices (10 % misbehaving: garbage, resets, hangs, flapping,
// 500s), a broker outage every few minutes and a kill -9 of the daemon every
// few minutes, for 2 minutes (plus the drain) in its short form (ctest, label
// soak) and an hour with EDGEPOLL_SOAK=1 (EDGEPOLL_SOAK_MINUTES=N for another length). It records and checks:
//   - zero stored readings lost (a kcat consumer reads the topic while it runs);
//   - duplicates at most the in-flight window per producer interruption (a
//     kill -9, or a broker outage whose failed deliveries are sent again);
//   - RSS and open fds flat after warm-up, per daemon run: the lowest of its
//     last three samples at most 25 % + 16 MiB / 32 fds above its sample at
//     the end of warm-up;
//   - no process outside the misbehaving devices in a restart loop: no
//     supervisor outside them restarted a child more than once in its window.
#include <dirent.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include <gtest/gtest.h>

#include "rig.hpp"

namespace edgepoll::system_test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::size_t rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  std::size_t value = 0;
  while (in >> key) {
    if (key == "VmRSS:") {
      in >> value;
      return value;
    }
    in.ignore(4096, '\n');
  }
  return 0;
}

std::size_t open_fds(pid_t pid) {
  std::size_t n = 0;
  if (DIR* d = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str())) {
    while (readdir(d)) ++n;
    closedir(d);
  }
  return n >= 2 ? n - 2 : 0;  // . and ..
}

bool misbehaving(const std::string& path) { return path.find("device:bad-") != std::string::npos; }

// Supervisors outside the misbehaving devices that restarted children more than once in their window.
void restart_loops(const nlohmann::json& node, std::vector<std::string>& out) {
  const std::string path = node.value("path", "");
  if (misbehaving(path)) return;
  if (node.value("type", "") == "supervisor" && node.value("restarts_in_window", 0) > 1)
    out.push_back(path + " (" + std::to_string(node.value("restarts_in_window", 0)) + " restarts)");
  if (node.contains("children"))
    for (const auto& c : node["children"]) restart_loops(c, out);
}

struct DaemonRun {  // one daemon process between two kills
  std::size_t warm_rss = 0, warm_fds = 0;
  std::vector<std::size_t> rss, fds;  // the samples after warm-up
  bool warmed = false;
  // The floor of the last three samples: a leak raises it, while a passing
  // burst (connections opened again after an outage) lifts one sample only.
  static std::size_t floor_of_last(const std::vector<std::size_t>& v) {
    return v.empty() ? 0 : *std::min_element(v.end() - static_cast<std::ptrdiff_t>(std::min<std::size_t>(3, v.size())), v.end());
  }
  std::size_t last_rss() const { return floor_of_last(rss); }
  std::size_t last_fds() const { return floor_of_last(fds); }
};

TEST(Soak, TwoThousandDevicesBrokerOutagesAndKillNineLoseNothingAndStayFlat) {
  const bool long_form = std::getenv("EDGEPOLL_SOAK") && std::string(std::getenv("EDGEPOLL_SOAK")) == "1";
  const char* minutes_env = std::getenv("EDGEPOLL_SOAK_MINUTES");
  const auto length = std::chrono::minutes(minutes_env ? std::stoi(minutes_env) : long_form ? 60 : 0);
  const auto duration = length.count() > 0 ? std::chrono::duration_cast<std::chrono::seconds>(length) : 120s;
  // CI: an outage and a kill each minute; the long form every few minutes.
  const auto outage_every = long_form ? 4min : std::chrono::minutes(1);
  const auto outage_for = long_form ? 30s : 10s;
  const auto kill_every = long_form ? 5min : std::chrono::minutes(1);
  const auto warm_up = 20s;

  RigOptions o;
  o.node_id = "soak-node";
  o.registration = false;
  o.interval = "2s";
  o.max_in_flight = 500;
  o.backoff_base = "5s";
  const char* behaviours[] = {"garbage", "reset", "hang", "flap:10s", "status:500"};
  for (int i = 0; i < 1800; ++i) o.good.push_back("good-" + std::to_string(i));
  for (int i = 0; i < 200; ++i) o.bad["bad-" + std::to_string(i)] = behaviours[i % 5];
  Rig rig(o);
  ASSERT_TRUE(rig.start_daemon());

  const auto start = Clock::now();
  auto next_outage = start + outage_every / 2, next_kill = start + kill_every;
  auto run_started = start;
  std::size_t outages = 0, kills = 0, samples = 0;
  std::vector<DaemonRun> runs(1);
  std::vector<std::string> loops;
  while (Clock::now() - start < duration) {
    const auto now = Clock::now();
    DaemonRun& run = runs.back();
    const pid_t pid = rig.daemon_pid();
    const auto rss = rss_kib(pid), fds = open_fds(pid);
    if (now - run_started >= warm_up && !run.warmed) {
      run.warmed = true;
      run.warm_rss = rss;
      run.warm_fds = fds;
    }
    if (run.warmed) {
      run.rss.push_back(rss);
      run.fds.push_back(fds);
      std::vector<std::string> found;
      restart_loops(rig.tree(), found);
      for (auto& f : found) loops.push_back(std::move(f));
    }
    ++samples;
    if (now >= next_outage) {
      ASSERT_TRUE(rig.kafka().write_line("down all"));
      std::this_thread::sleep_for(outage_for);  // the outage itself: the daemon's side is checked at the end
      ASSERT_TRUE(rig.kafka().write_line("up all"));
      ++outages;
      next_outage += outage_every;
    } else if (now >= next_kill) {
      rig.kill_daemon(SIGKILL);
      ++kills;
      ASSERT_TRUE(rig.start_daemon()) << "the daemon did not come back after kill -9 #" << kills;
      run_started = Clock::now();
      runs.emplace_back();
      next_kill += kill_every;
    } else {
      std::this_thread::sleep_for(5s);  // the sampling period
    }
  }
  // Let the backlog drain, then account for every stored reading.
  ASSERT_TRUE(rig.drained(std::chrono::seconds(long_form ? 600 : 180))) << rig.describe_loss();
  const auto a = rig.account();
  const auto minutes = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - start).count() / 60.0;
  std::cout << "soak: " << minutes << " min, " << a.stored << " readings stored, " << a.lost << " lost, "
            << a.duplicates << " duplicates, " << kills << " kill -9, " << outages << " broker outages, " << samples
            << " samples\n";
  for (std::size_t i = 0; i < runs.size(); ++i) {
    std::cout << "soak: run " << i << " rss " << runs[i].warm_rss << " -> " << runs[i].last_rss() << " KiB, fds "
              << runs[i].warm_fds << " -> " << runs[i].last_fds() << " (floor of the last 3 samples; highest "
              << (runs[i].fds.empty() ? 0 : *std::max_element(runs[i].fds.begin(), runs[i].fds.end())) << ")\n";
  }
  RecordProperty("readings", static_cast<int>(a.stored));
  RecordProperty("duplicates", static_cast<int>(a.duplicates));
  RecordProperty("kills", static_cast<int>(kills));
  RecordProperty("outages", static_cast<int>(outages));
  EXPECT_GE(kills, 1u);
  EXPECT_GE(outages, 1u);
  // 1,800 good devices every 2 s: 900 readings a second while a daemon runs.
  // At least half of that over the run leaves room for the restarts and the
  // outages' backpressure, and still fails a soak that polled little.
  const auto run_seconds = std::chrono::duration_cast<std::chrono::seconds>(duration).count();
  EXPECT_GE(a.stored, static_cast<std::size_t>(900 * run_seconds / 2)) << "too few readings for the run's length";
  EXPECT_EQ(a.lost, 0u);
  EXPECT_EQ(a.unknown, 0u);
  EXPECT_LE(a.duplicates, (kills + outages) * rig.max_in_flight());
  for (std::size_t i = 0; i < runs.size(); ++i) {
    if (!runs[i].warmed) continue;
    EXPECT_LE(runs[i].last_rss(), runs[i].warm_rss + runs[i].warm_rss / 4 + 16 * 1024) << "RSS grew in run " << i;
    EXPECT_LE(runs[i].last_fds(), runs[i].warm_fds + 32) << "open fds grew in run " << i;
  }
  EXPECT_TRUE(loops.empty()) << "restart loops outside the misbehaving devices: " << loops.front();
}

}  // namespace
}  // namespace edgepoll::system_test
