// pollers-bench: polls N devices of a running device-sim at a fixed interval for
// a fixed time with the production parts (HttpFetcher on one io_context thread,
// one PollSchedule per device on a SteadyClock, Decoder on every body), then
// prints key=value figures measured over the window after a warm-up:
// polls/s, CPU-seconds per 1,000 polls (/proc/self/stat), RSS per device,
// tick lateness and poll-interval jitter. With --stall-ms the loop thread is
// blocked once inside the window (as a stuck call or a CPU hog would) and the
// figures say how many ticks were shed and how long polling took to be on time
// again.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "edgepoll/pollers/decoder.hpp"
#include "edgepoll/pollers/http_fetcher.hpp"
#include "edgepoll/pollers/poll_schedule.hpp"
#include "support/proc_stats.hpp"

using namespace edgepoll;
using namespace edgepoll::pollers;
using namespace std::chrono_literals;
using namespace edgepoll::bench;

namespace {

struct Device {
  FetchRequest request;
  std::unique_ptr<PollSchedule> schedule;
  bool in_flight = false;
  supervision::TimePoint last_start{};
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"pollers-bench: N devices of a device-sim polled by HttpFetcher + PollSchedule"};
  std::string sim = "127.0.0.1:8080";
  std::string prefix = "e-";
  unsigned devices = 1000;
  double seconds = 20, warmup = 3, interval_s = 1, timeout_s = 2;
  app.add_option("--sim", sim,
                 "device-sim HOST:PORT[,HOST:PORT...]; device n uses address n % count")
      ->capture_default_str();
  app.add_option("--prefix", prefix, "device ids are <prefix><n>")->capture_default_str();
  app.add_option("--devices", devices, "number of devices")->capture_default_str();
  app.add_option("--seconds", seconds, "measured window")->capture_default_str();
  app.add_option("--warmup", warmup, "seconds before the window opens")->capture_default_str();
  app.add_option("--interval", interval_s, "poll interval, seconds")->capture_default_str();
  app.add_option("--timeout", timeout_s, "per-request timeout, seconds")->capture_default_str();
  std::string http_client = "plain";
  app.add_option("--http-client", http_client,
                 "plain: numeric http:// URLs through the fetcher's own client (as the daemon "
                 "does); libcurl: every request through libcurl")
      ->check(CLI::IsMember({"plain", "libcurl"}))
      ->capture_default_str();
  double stall_after_s = 5, stall_ms = 0;
  app.add_option("--stall-ms", stall_ms,
                 "block the loop thread this long once in the window (0: never)")
      ->capture_default_str();
  app.add_option("--stall-after", stall_after_s, "seconds into the window the stall begins")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  boost::asio::io_context io(1);
  supervision::SteadyClock clock(io);
  const double rss_before = rss_bytes();
  FetcherOptions fetcher_options;
  // Polled every interval: connections idle much longer are burst leftovers.
  fetcher_options.max_idle_connection_age = std::chrono::duration_cast<Duration>(
      std::chrono::duration<double>(std::max(2.0, 3 * interval_s)));
  fetcher_options.plain_http_client = http_client == "plain";
  HttpFetcher fetcher(io, fetcher_options);
  const Decoder decoder("bench", {{"/temperature", "temperature", MetricType::number, "degC"},
                                  {"/humidity", "humidity", MetricType::number, "%"},
                                  {"/pressure", "pressure", MetricType::number, "hPa"},
                                  {"/online", "online", MetricType::boolean, ""}});
  const auto interval =
      std::chrono::duration_cast<Duration>(std::chrono::duration<double>(interval_s));

  bool measuring = false;
  std::uint64_t new_connections = 0, polls = 0, ok = 0, failed = 0, decode_failed = 0, skipped = 0,
                shed = 0;
  // After a stall: when the last tick later than this came (recovery time).
  constexpr double kOnTimeMs = 50;
  std::chrono::steady_clock::time_point stall_end{}, last_late_after_stall{};
  std::vector<double> lateness_ms, interval_error_ms;
  lateness_ms.reserve(static_cast<std::size_t>(devices * seconds / interval_s * 1.2));
  interval_error_ms.reserve(lateness_ms.capacity());

  std::vector<std::string> addresses;
  for (std::size_t at = 0; at <= sim.size();) {
    const auto comma = std::min(sim.find(',', at), sim.size());
    addresses.push_back(sim.substr(at, comma - at));
    at = comma + 1;
  }
  std::map<std::string, std::uint64_t> errors;
  std::vector<Device> fleet(devices);
  std::mt19937_64 seeds(12345);
  for (unsigned i = 0; i < devices; ++i) {
    Device& d = fleet[i];
    d.request.url =
        "http://" + addresses[i % addresses.size()] + "/devices/" + prefix + std::to_string(i);
    d.request.timeout =
        std::chrono::duration_cast<Duration>(std::chrono::duration<double>(timeout_s));
    d.request.max_body = std::size_t{64} * 1024;
    d.request.device_id = prefix + std::to_string(i);
    d.schedule = std::make_unique<PollSchedule>(clock, interval, seeds());
    d.schedule->start(
        [&, &d = d](supervision::TimePoint due) {
          const auto now = clock.now();
          if (measuring) {
            lateness_ms.push_back(std::chrono::duration<double, std::milli>(now - due).count());
            if (stall_end != std::chrono::steady_clock::time_point{} &&
                lateness_ms.back() > kOnTimeMs)
              last_late_after_stall = std::chrono::steady_clock::now();
            if (d.last_start != supervision::TimePoint{})
              interval_error_ms.push_back(
                  std::abs(std::chrono::duration<double, std::milli>(now - d.last_start - interval)
                               .count()));
          }
          d.last_start = now;
          if (d.in_flight) {
            if (measuring) ++skipped;
            return;
          }
          d.in_flight = true;
          fetcher.fetch(d.request, [&, &d = d](Result<FetchResponse> r) {
            d.in_flight = false;
            if (!measuring) return;
            ++polls;
            if (!r) {
              ++failed;
              ++errors[r.error().code];
              return;
            }
            ++ok;
            new_connections += static_cast<std::uint64_t>(r->new_connections);
            if (!decoder.decode(r->body)) ++decode_failed;
          });
        },
        [&] {
          if (measuring) ++shed;
        });
  }

  io.run_for(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::duration<double>(warmup)));
  measuring = true;
  const double cpu0 = cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  std::printf("window_start=1\n");
  std::fflush(stdout);
  boost::asio::steady_timer stall(io);
  if (stall_ms > 0) {
    stall.expires_after(std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::duration<double>(stall_after_s)));
    stall.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(stall_ms));
      stall_end = last_late_after_stall = std::chrono::steady_clock::now();
    });
  }
  io.run_for(std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::duration<double>(seconds)));
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = cpu_seconds() - cpu0;
  const double rss = rss_bytes();
  measuring = false;

  std::printf("edgepoll_devices=%u\n", devices);
  std::printf("edgepoll_window_s=%.2f\n", wall);
  std::printf(
      "edgepoll_polls=%lu\nedgepoll_ok=%lu\nedgepoll_failed=%lu\nedgepoll_decode_failed=%lu\n",
      static_cast<unsigned long>(polls), static_cast<unsigned long>(ok),
      static_cast<unsigned long>(failed), static_cast<unsigned long>(decode_failed));
  std::printf("edgepoll_new_connections=%lu\n", static_cast<unsigned long>(new_connections));
  for (const auto& [code, n] : errors)
    std::printf("edgepoll_error_%s=%lu\n", code.c_str(), static_cast<unsigned long>(n));
  std::printf("edgepoll_skipped_in_flight=%lu\n", static_cast<unsigned long>(skipped));
  std::printf("edgepoll_shed_late=%lu\n", static_cast<unsigned long>(shed));
  if (stall_ms > 0)
    std::printf("edgepoll_recovery_after_stall_s=%.2f\n",
                std::chrono::duration<double>(last_late_after_stall - stall_end).count());
  std::printf("edgepoll_polls_per_s=%.1f\n", static_cast<double>(polls) / wall);
  std::printf("edgepoll_cpu_s=%.3f\n", cpu);
  std::printf("edgepoll_cpu_s_per_1000_polls=%.4f\n",
              polls ? cpu * 1000.0 / static_cast<double>(polls) : 0.0);
  std::printf("edgepoll_rss_bytes=%.0f\n", rss);
  std::printf("edgepoll_rss_per_device_bytes=%.0f\n", (rss - rss_before) / devices);
  std::printf("edgepoll_tick_lateness_p50_ms=%.3f\n", percentile(lateness_ms, 0.50));
  std::printf("edgepoll_tick_lateness_p99_ms=%.3f\n", percentile(lateness_ms, 0.99));
  std::printf("edgepoll_interval_jitter_p50_ms=%.3f\n", percentile(interval_error_ms, 0.50));
  std::printf("edgepoll_interval_jitter_p99_ms=%.3f\n", percentile(interval_error_ms, 0.99));
  std::printf("edgepoll_interval_jitter_max_ms=%.3f\n",
              interval_error_ms.empty()
                  ? 0.0
                  : *std::max_element(interval_error_ms.begin(), interval_error_ms.end()));
  return 0;
}
