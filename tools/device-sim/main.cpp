// device-sim: thousands of simulated HTTP/JSON devices (or Modbus TCP units, or SNMP agents) in one process, each with
// a scripted behaviour. Used by tests (as a child process), the demo and the
// benchmarks. The first stdout line is `listening=<host:port>`.
#include <fstream>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>
#include <boost/asio/signal_set.hpp>
#include <nlohmann/json.hpp>

#include "behaviour.hpp"
#include "modbus_server.hpp"
#include "server.hpp"
#include "snmp_server.hpp"

using namespace edgepoll::devicesim;
namespace asio = boost::asio;

namespace {

std::shared_ptr<const Behaviour> parse_or_exit(const std::string& spec) {
  auto b = Behaviour::parse(spec);
  if (!b) {
    std::cerr << "device-sim: " << b.error().describe() << '\n';
    std::exit(2);
  }
  return std::make_shared<const Behaviour>(std::move(b).value());
}

// {"default": "normal", "devices": {"boiler-1": "slow:2s", "bad-*": "garbage"}}
void load_config(const std::string& path, std::string& fallback, std::vector<Rule>& rules) {
  std::ifstream in(path);
  const auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    std::cerr << "device-sim: " << path << ": not a JSON object\n";
    std::exit(2);
  }
  for (const auto& [key, value] : j.items()) {
    if (key == "default" && value.is_string()) {
      fallback = value.get<std::string>();
    } else if (key == "devices" && value.is_object()) {
      for (const auto& [id, spec] : value.items()) {
        if (!spec.is_string()) {
          std::cerr << "device-sim: " << path << ": devices." << id << " must be a string\n";
          std::exit(2);
        }
        rules.push_back(Rule{id, parse_or_exit(spec.get<std::string>())});
      }
    } else {
      std::cerr << "device-sim: " << path << ": unknown or malformed key \"" << key
                << "\" (expected \"default\" or \"devices\")\n";
      std::exit(2);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"device-sim: simulated HTTP/JSON devices at /devices/<id> on one port, or Modbus TCP gateways (--modbus), or SNMPv2c agents (--snmp)"};
  std::string listen_at = "127.0.0.1:0";
  unsigned listeners = 1;
  unsigned threads = 1;
  std::string fallback = "normal";
  std::vector<std::string> device_specs;
  std::string config_file;
  unsigned idle_timeout = 120;
  bool modbus = false;
  unsigned units = 1;
  std::vector<std::string> unit_specs;
  bool snmp = false;
  std::vector<std::string> snmp_agent_specs;
  SnmpSimulator snmp_sim;
  app.add_option("--listen", listen_at, "HOST:PORT to listen on; port 0 picks a free port")
      ->capture_default_str();
  app.add_option("--listeners", listeners,
                 "number of ports (the next ports after PORT, or random ones for port 0)")
      ->capture_default_str();
  app.add_option("--threads", threads, "event loop threads")->capture_default_str();
  app.add_option("--default", fallback, "behaviour of devices no rule names")
      ->capture_default_str();
  app.add_option("--device", device_specs,
                 "ID=SPEC (repeatable); ID ending in '*' matches a prefix, e.g. bad-*=garbage");
  app.add_option("--config", config_file,
                 R"(JSON file {"default":"normal","devices":{"ID":"SPEC",...}})");
  app.add_option("--idle-timeout", idle_timeout, "seconds an idle keep-alive connection stays")
      ->capture_default_str();
  app.add_flag("--modbus", modbus, "Modbus TCP mode: each listener is a gateway (see below)");
  app.add_option("--units", units, "Modbus: unit ids 1..N served on each listener")->capture_default_str();
  app.add_option("--unit", unit_specs, "Modbus: [L/]U[-V]=SPEC (repeatable), e.g. 7=hang, 0/3-5=exception:2");
  auto* snmp_flag = app.add_flag("--snmp", snmp, "SNMPv2c mode: each listener is a UDP agent (see below)");
  snmp_flag->excludes(app.get_option("--modbus"));
  app.add_option("--snmp-community", snmp_sim.community, "SNMP: the community agents answer")->capture_default_str();
  app.add_option("--snmp-agent", snmp_agent_specs, "SNMP: L[-M]=SPEC (repeatable), e.g. 7=hang, 10-19=slow:3s");
  app.add_option("--snmp-max-size", snmp_sim.max_message, "SNMP: largest answer in bytes")->capture_default_str();
  app.footer(behaviour_help() + "\n" + modbus_behaviour_help() + "\n" + snmp_behaviour_help() + R"(
Examples:
  device-sim --listen 127.0.0.1:8080 --device 'bad-*=garbage' --device slow-1=slow:3s
  device-sim --default flap:5s
  curl http://127.0.0.1:8080/devices/d1 ; curl http://127.0.0.1:8080/stats/total
  curl -d status:500 http://127.0.0.1:8080/control/d1)");
  CLI11_PARSE(app, argc, argv);

  ModbusSimulator modbus_sim;
  modbus_sim.units = units;
  for (const auto& s : unit_specs) {
    auto rule = ModbusRule::parse(s);
    if (!rule) {
      std::cerr << "device-sim: " << rule.error().describe() << '\n';
      return 2;
    }
    modbus_sim.rules.push_back(*rule);
  }
  for (const auto& s : snmp_agent_specs) {
    auto rule = SnmpRule::parse(s);
    if (!rule) {
      std::cerr << "device-sim: " << rule.error().describe() << '\n';
      return 2;
    }
    snmp_sim.rules.push_back(*rule);
  }
  std::vector<Rule> rules;
  if (!config_file.empty()) load_config(config_file, fallback, rules);
  for (const auto& s : device_specs) {
    const auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "device-sim: --device " << s << ": expected ID=SPEC\n";
      return 2;
    }
    rules.push_back(Rule{s.substr(0, eq), parse_or_exit(s.substr(eq + 1))});
  }
  Simulator simulator(parse_or_exit(fallback), std::move(rules));

  const auto colon = listen_at.rfind(':');
  if (colon == std::string::npos) {
    std::cerr << "device-sim: --listen must be HOST:PORT\n";
    return 2;
  }
  asio::io_context io(static_cast<int>(threads));
  try {
    const auto address = asio::ip::make_address(listen_at.substr(0, colon));
    const auto port = static_cast<unsigned short>(std::stoi(listen_at.substr(colon + 1)));
    for (unsigned i = 0; i < std::max(1u, listeners); ++i) {
      const unsigned short p = port == 0 ? 0 : static_cast<unsigned short>(port + i);
      if (snmp) {
        const auto bound = listen_snmp(io, {address, p}, snmp_sim, i);
        std::cout << "listening=" << bound.address().to_string() << ':' << bound.port() << '\n';
        continue;
      }
      const auto bound = modbus ? listen_modbus(io, {address, p}, modbus_sim, i)
                                : listen(io, {address, p}, simulator, {std::chrono::seconds(idle_timeout)});
      std::cout << "listening=" << bound.address().to_string() << ':' << bound.port() << '\n';
    }
    std::cout.flush();
  } catch (const std::exception& e) {
    std::cerr << "device-sim: cannot listen on " << listen_at << ": " << e.what() << '\n';
    return 1;
  }

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) { io.stop(); });
  asio::signal_set usr1(io, SIGUSR1);
  std::function<void(const boost::system::error_code&, int)> on_usr1 = [&](const boost::system::error_code& ec, int) {
    if (ec) return;
    if (snmp)
      std::cout << "snmp_requests=" << snmp_sim.requests.load() << " snmp_wrong_community="
                << snmp_sim.wrong_community.load() << " snmp_dropped=" << snmp_sim.dropped.load() << std::endl;
    else
      std::cout << "modbus_requests=" << modbus_sim.requests.load() << std::endl;
    usr1.async_wait(on_usr1);
  };
  usr1.async_wait(on_usr1);
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i) pool.emplace_back([&] { io.run(); });
  io.run();
  for (auto& t : pool) t.join();
  return 0;
}
