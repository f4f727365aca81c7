// edgepolld: the daemon. main() only wires: config -> shared parts -> tree -> loop.
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <iostream>
#include <spdlog/spdlog.h>

#include "edgepoll/appliance/config_cache_file.hpp"
#include "edgepoll/appliance/config_reload.hpp"
#include "edgepoll/appliance/node_tree.hpp"
#include "edgepoll/pollers/modbus/request_plan.hpp"

using namespace edgepoll;
using namespace edgepoll::supervision;

namespace {
// What each Modbus device will send per poll, so that an operator sees merges
// and gaps before the devices do.
void print_request_plans(const std::vector<pollers::DeviceConfig>& devices, std::ostream& out) {
  for (const auto& d : devices) {
    if (!d.modbus) continue;
    const auto plan = pollers::plan_requests(*d.modbus);
    out << "device " << d.id << " (modbus " << d.modbus->gateway() << " unit " << int{d.modbus->unit_id} << "): "
        << plan.size() << (plan.size() == 1 ? " request" : " requests") << " per poll\n";
    for (const auto& line : pollers::describe_plan(plan, *d.modbus)) out << "  " << line << "\n";
  }
}

// --check-config: the files alone (never the cache), and what each holds.
int check_config(const std::string& path) {
  auto config = appliance::AppConfig::load(path);
  if (!config.ok()) {
    std::cerr << "edgepolld: " << config.error().describe() << "\n";
    return 2;
  }
  std::cout << path << ": ok, " << config->devices.size() << " devices\n";
  for (const auto& [file, n] : config->devices_per_file) {
    std::cout << "  " << file << ": " << n << (n == 1 ? " device\n" : " devices\n");
  }
  if (!config->files.devices_note.empty()) std::cout << "  " << config->files.devices_note << "\n";
  print_request_plans(config->devices, std::cout);
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"edgepolld: resilient edge device polling appliance"};
  std::string config_path = "/etc/edgepoll/edgepoll.toml";
  bool check_only = false;
  app.add_option("-c,--config", config_path, "main configuration file (devices.d/ beside it)")->capture_default_str();
  app.add_flag("--check-config", check_only, "validate the main file and devices.d, print devices per file, exit");
  CLI11_PARSE(app, argc, argv);
  if (check_only) return check_config(config_path);

  auto boot = appliance::load_boot_config(config_path);  // the files, or the last-good cache when they fail
  if (!boot.ok()) {
    std::cerr << "edgepolld: " << boot.error().describe() << "\n";
    return 2;
  }
  const appliance::AppConfig& config = boot->config;

  boost::asio::io_context io;  // one event-loop thread: handlers never block
  SteadyClock clock(io);
  Runtime runtime(io, clock);
  appliance::NodeParts parts = appliance::make_node_parts(io, config, boot->source, boot->detail);
  runtime.add_observer(parts.metrics->supervision_observer());

  auto root = runtime.spawn(std::make_shared<Supervisor>(appliance::node_tree(config, parts, runtime)), "root");
  if (!root.ok()) {
    spdlog::critical("edgepoll did not start: {}", root.error().describe());
    return 1;
  }
  (void)runtime.registry().register_name("root", root.value());
  spdlog::info("edgepoll running: {} devices from the {}, config {}", config.devices.size(),
               boot->source == appliance::ConfigSource::files ? "files" : "last-good cache", config_path);
  if (!config.files.devices_note.empty()) spdlog::info("config: {}", config.files.devices_note);

  int exit_code = 0;
  runtime.on_exit(root.value(), [&](const ExitReason& reason) {
    exit_code = reason.is_clean() ? 0 : 1;
    spdlog::info("edgepoll stopped: {}", reason.to_string());
    io.stop();
  });
  appliance::ConfigReloader reloader(runtime, root.value(), parts, config_path);
  boost::asio::signal_set signals(io, SIGINT, SIGTERM, SIGHUP);
  std::function<void(const boost::system::error_code&, int)> on_signal = [&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      reloader.reload();
      signals.async_wait(on_signal);
      return;
    }
    spdlog::info("signal {}: stopping (children in reverse start order)", sig);
    stop_supervisor(runtime, root.value(), ExitReason::shutdown());
  };
  signals.async_wait(on_signal);
  io.run();
  return exit_code;
}
