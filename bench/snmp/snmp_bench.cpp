// snmp-bench: polls N SNMPv2c agents at a fixed interval with the production
// parts (SnmpTransport on one io_context thread, one SnmpAgent session and
// PollSchedule per agent on a SteadyClock, SnmpPoll, SnmpDecoder on every
// poll), then prints key=value figures over the window after a warm-up: polls,
// CPU-seconds, RSS, failures by code. Each poll reads the 10 scalar OIDs and
// walks the table given (GETBULK), as run.sh's recording has them.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>

#include "edgepoll/pollers/poll_schedule.hpp"
#include "edgepoll/pollers/snmp/snmp_agent.hpp"
#include "edgepoll/pollers/snmp/snmp_decoder.hpp"
#include "edgepoll/pollers/snmp/snmp_poll.hpp"
#include "support/proc_stats.hpp"

using namespace edgepoll;
using namespace edgepoll::pollers;
using namespace edgepoll::bench;

namespace {

// The ten scalars of run.sh's recording (and of device-sim --snmp):
// 1.3.6.1.4.1.99999.1.<i>.0, the same OIDs collectd is given.
SnmpDeviceConfig device(const std::string& host, std::uint16_t port, unsigned repetitions) {
  SnmpDeviceConfig c;
  c.host = host;
  c.port = port;
  c.version = SnmpVersion::v2c;
  c.retries = 1;
  for (unsigned i = 1; i <= 10; ++i)
    c.metrics.push_back({"s" + std::to_string(i), Oid{1, 3, 6, 1, 4, 1, 99999, 1, i, 0}, OctetFormat::automatic, false, ""});
  SnmpTable t;
  t.name = "if";
  t.index_tag = "ifIndex";
  t.max_repetitions = repetitions;
  t.columns = {SnmpField{"in_octets", Oid{1, 3, 6, 1, 2, 1, 2, 2, 1, 10}, OctetFormat::automatic, true, "B/s"},
               SnmpField{"out_octets", Oid{1, 3, 6, 1, 2, 1, 2, 2, 1, 16}, OctetFormat::automatic, true, "B/s"}};
  t.tags = {SnmpField{"ifDescr", Oid{1, 3, 6, 1, 2, 1, 2, 2, 1, 2}, OctetFormat::text, false, ""}};
  c.tables.push_back(t);
  return c;
}

struct Agent {
  SnmpDeviceConfig config;
  std::unique_ptr<SnmpAgent> session;
  std::unique_ptr<SnmpDecoder> decoder;
  std::unique_ptr<PollSchedule> schedule;
  bool in_flight = false;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"snmp-bench: N SNMP agents polled by SnmpTransport + SnmpPoll + PollSchedule"};
  std::string agents_file, community = "public";
  double seconds = 30, warmup = 12, interval_s = 10, timeout_s = 2;
  unsigned repetitions = 25;
  app.add_option("--agents-file", agents_file, "HOST:PORT per line, one agent each")->required();
  app.add_option("--community", community)->capture_default_str();
  app.add_option("--seconds", seconds, "measured window")->capture_default_str();
  app.add_option("--warmup", warmup, "seconds before the window opens")->capture_default_str();
  app.add_option("--interval", interval_s, "poll interval, seconds")->capture_default_str();
  app.add_option("--timeout", timeout_s, "per-attempt timeout, seconds")->capture_default_str();
  app.add_option("--max-repetitions", repetitions, "GETBULK repetitions")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  boost::asio::io_context io(1);
  supervision::SteadyClock clock(io);
  SnmpTransport transport(io);
  const double rss_before = rss_bytes();
  const auto interval = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(interval_s));
  const auto timeout = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(timeout_s));

  bool measuring = false;
  std::uint64_t polls = 0, ok = 0, failed = 0, decode_failed = 0, skipped = 0, shed = 0, readings = 0;
  std::map<std::string, std::uint64_t> errors;
  std::vector<Agent> fleet;
  std::ifstream in(agents_file);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    Agent a;
    a.config = device(line.substr(0, line.rfind(':')), static_cast<std::uint16_t>(std::stoi(line.substr(line.rfind(':') + 1))),
                      repetitions);
    fleet.push_back(std::move(a));
  }
  std::mt19937_64 seeds(12345);
  for (std::size_t i = 0; i < fleet.size(); ++i) {
    Agent& a = fleet[i];
    auto session = transport.open("a-" + std::to_string(i), a.config, SnmpSecrets{community, "", ""}, timeout);
    if (!session) {
      std::fprintf(stderr, "snmp-bench: %s\n", session.error().describe().c_str());
      return 1;
    }
    a.session = std::move(session.value());
    a.decoder = std::make_unique<SnmpDecoder>("a-" + std::to_string(i), a.config);
    a.schedule = std::make_unique<PollSchedule>(clock, interval, seeds());
    a.schedule->start(
        [&, &a = a](supervision::TimePoint) {
          if (a.in_flight) {
            if (measuring) ++skipped;
            return;
          }
          a.in_flight = true;
          auto poll = std::make_shared<SnmpPoll>(a.config, *a.session, clock, [&, &a = a](Result<SnmpResponse> r) {
            a.in_flight = false;
            if (!r) {
              if (measuring) ++failed, ++polls, ++errors[r.error().code];
              return;
            }
            auto d = a.decoder->decode(*r);  // decoded outside the window too: rates need their first sample
            if (!measuring) return;
            ++polls;
            if (!d) ++decode_failed;
            else ++ok, readings += d->readings.size();
          });
          poll->start();
        },
        [&] {
          if (measuring) ++shed;
        });
  }

  io.run_for(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::duration<double>(warmup)));
  measuring = true;
  const double cpu0 = cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  std::printf("window_start=1\n");
  std::fflush(stdout);
  io.run_for(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::duration<double>(seconds)));
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = cpu_seconds() - cpu0;
  const double rss = rss_bytes();
  measuring = false;

  std::printf("edgepoll_agents=%zu\nedgepoll_window_s=%.2f\n", fleet.size(), wall);
  std::printf("edgepoll_polls=%lu\nedgepoll_ok=%lu\nedgepoll_failed=%lu\nedgepoll_decode_failed=%lu\n",
              static_cast<unsigned long>(polls), static_cast<unsigned long>(ok), static_cast<unsigned long>(failed),
              static_cast<unsigned long>(decode_failed));
  std::printf("edgepoll_readings=%lu\n", static_cast<unsigned long>(readings));
  for (const auto& [code, n] : errors)
    std::printf("edgepoll_error_%s=%lu\n", code.c_str(), static_cast<unsigned long>(n));
  std::printf("edgepoll_requests=%lu\n", static_cast<unsigned long>(transport.stats().requests));
  std::printf("edgepoll_skipped_in_flight=%lu\nedgepoll_shed_late=%lu\n", static_cast<unsigned long>(skipped),
              static_cast<unsigned long>(shed));
  std::printf("edgepoll_cpu_s=%.3f\n", cpu);
  std::printf("edgepoll_rss_bytes=%.0f\n", rss);
  std::printf("edgepoll_rss_per_agent_bytes=%.0f\n", (rss - rss_before) / static_cast<double>(fleet.size()));
  return 0;
}
