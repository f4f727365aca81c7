// modbus-bench: polls N Modbus units of a running device-sim (--modbus) at a
// fixed interval with the production parts (ModbusTcpTransport on one
// io_context thread, one PollSchedule per device on a SteadyClock, the
// device's request plan, ModbusDecoder on every answer), then prints key=value
// figures over the window after a warm-up: polls/s, CPU-seconds per 1,000
// polls, RSS per device, tick lateness and poll-interval jitter.
// Each device reads 10 holding registers as 7 fields (int16, float32, uint32,
// int16, float32, uint16, int16): one FC03 read per poll.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <map>
#include <random>

#include "edgepoll/pollers/modbus/modbus_decoder.hpp"
#include "edgepoll/pollers/modbus/modbus_transport.hpp"
#include "edgepoll/pollers/poll_schedule.hpp"
#include "support/proc_stats.hpp"

using namespace edgepoll;
using namespace edgepoll::pollers;
using namespace edgepoll::bench;

namespace {

ModbusDeviceConfig ten_registers(std::uint8_t unit) {
  ModbusDeviceConfig c;
  c.unit_id = unit;
  const std::vector<std::pair<std::uint16_t, ModbusType>> layout{
      {0, ModbusType::int16}, {1, ModbusType::float32}, {3, ModbusType::uint32},
      {5, ModbusType::int16}, {6, ModbusType::float32}, {8, ModbusType::uint16},
      {9, ModbusType::int16}};
  for (const auto& [address, type] : layout) {
    ModbusField f;
    f.name = "r" + std::to_string(address);
    f.address = address;
    f.type = type;
    if (type == ModbusType::int16) f.scale = 0.1;
    c.fields.push_back(f);
  }
  return c;
}

struct Device {
  GatewayId gateway = 0;
  std::vector<ModbusRead> reads;
  std::unique_ptr<ModbusDecoder> decoder;
  std::unique_ptr<PollSchedule> schedule;
  bool in_flight = false;
  supervision::TimePoint last_start{};
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "modbus-bench: N Modbus units of a device-sim polled by ModbusTcpTransport + PollSchedule"};
  std::string sim = "127.0.0.1:5020";
  unsigned devices = 1000, outstanding = 1;
  double seconds = 20, warmup = 3, interval_s = 1, timeout_s = 1;
  app.add_option("--sim", sim,
                 "gateways HOST:PORT[,HOST:PORT...]; device n is unit 1 + n / gateways "
                 "behind gateway n % gateways")
      ->capture_default_str();
  app.add_option("--devices", devices, "number of devices")->capture_default_str();
  app.add_option("--max-outstanding", outstanding, "requests in flight per gateway")
      ->capture_default_str();
  app.add_option("--seconds", seconds, "measured window")->capture_default_str();
  app.add_option("--warmup", warmup, "seconds before the window opens")->capture_default_str();
  app.add_option("--interval", interval_s, "poll interval, seconds")->capture_default_str();
  app.add_option("--timeout", timeout_s, "per-request timeout, seconds")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  std::vector<std::pair<std::string, std::uint16_t>> gateways;
  for (std::size_t at = 0; at <= sim.size();) {
    const auto comma = std::min(sim.find(',', at), sim.size());
    const std::string a = sim.substr(at, comma - at);
    gateways.emplace_back(a.substr(0, a.rfind(':')),
                          static_cast<std::uint16_t>(std::stoi(a.substr(a.rfind(':') + 1))));
    at = comma + 1;
  }
  if (devices > gateways.size() * 247) {
    std::fprintf(stderr, "modbus-bench: at most 247 units per gateway\n");
    return 2;
  }

  boost::asio::io_context io(1);
  supervision::SteadyClock clock(io);
  const double rss_before = rss_bytes();
  ModbusTcpTransport transport(io);
  const auto interval =
      std::chrono::duration_cast<Duration>(std::chrono::duration<double>(interval_s));
  const auto timeout =
      std::chrono::duration_cast<Duration>(std::chrono::duration<double>(timeout_s));

  bool measuring = false;
  std::uint64_t polls = 0, ok = 0, failed = 0, decode_failed = 0, skipped = 0, shed = 0;
  std::vector<double> lateness_ms, interval_error_ms;
  lateness_ms.reserve(static_cast<std::size_t>(devices * seconds / interval_s * 1.2));
  interval_error_ms.reserve(lateness_ms.capacity());
  std::map<std::string, std::uint64_t> errors;
  std::vector<Device> fleet(devices);
  std::mt19937_64 seeds(12345);
  for (unsigned i = 0; i < devices; ++i) {
    Device& d = fleet[i];
    const auto& [host, port] = gateways[i % gateways.size()];
    auto config = ten_registers(static_cast<std::uint8_t>(1 + i / gateways.size()));
    d.gateway = transport.gateway(host, port, outstanding);
    d.decoder = std::make_unique<ModbusDecoder>("m-" + std::to_string(i), config);
    for (const auto& r : d.decoder->plan())
      d.reads.push_back(ModbusRead{config.unit_id, r.table, r.address, r.count, timeout});
    d.schedule = std::make_unique<PollSchedule>(clock, interval, seeds());
    d.schedule->start(
        [&, &d = d](supervision::TimePoint due) {
          const auto now = clock.now();
          if (measuring) {
            lateness_ms.push_back(std::chrono::duration<double, std::milli>(now - due).count());
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
          // The plan is one read here (10 adjacent registers).
          transport.read(d.gateway, d.reads.front(), [&, &d = d](Result<ModbusReply> r) {
            d.in_flight = false;
            if (!measuring) return;
            ++polls;
            if (!r) {
              ++failed;
              ++errors[r.error().code];
              return;
            }
            ++ok;
            ModbusResponse response{{std::move(r->values)}, {std::nullopt}, r->elapsed};
            if (!d.decoder->decode(response)) ++decode_failed;
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
  io.run_for(std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::duration<double>(seconds)));
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = cpu_seconds() - cpu0;
  const double rss = rss_bytes();
  measuring = false;

  std::printf("edgepoll_devices=%u\nedgepoll_window_s=%.2f\n", devices, wall);
  std::printf(
      "edgepoll_polls=%lu\nedgepoll_ok=%lu\nedgepoll_failed=%lu\nedgepoll_decode_failed=%lu\n",
      static_cast<unsigned long>(polls), static_cast<unsigned long>(ok),
      static_cast<unsigned long>(failed), static_cast<unsigned long>(decode_failed));
  for (const auto& [code, n] : errors)
    std::printf("edgepoll_error_%s=%lu\n", code.c_str(), static_cast<unsigned long>(n));
  std::printf("edgepoll_connects=%lu\n", static_cast<unsigned long>(transport.stats().connects));
  std::printf("edgepoll_skipped_in_flight=%lu\nedgepoll_shed_late=%lu\n",
              static_cast<unsigned long>(skipped), static_cast<unsigned long>(shed));
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
