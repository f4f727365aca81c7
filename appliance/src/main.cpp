// edgepolld: the daemon. main() only wires: config -> shared parts -> tree -> loop.
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <iostream>
#include <spdlog/spdlog.h>

#include "edgepoll/appliance/config_cache_file.hpp"
#include "edgepoll/appliance/config_check.hpp"
#include "edgepoll/appliance/config_reload.hpp"
#include "edgepoll/appliance/logging.hpp"
#include "edgepoll/appliance/node_tree.hpp"
#include "edgepoll/appliance/test_hooks.hpp"
#include "edgepoll/appliance/watchdog.hpp"
#include "edgepoll/version.hpp"

using namespace edgepoll;
using namespace edgepoll::supervision;

int main(int argc, char** argv) {
  CLI::App app{"edgepolld: resilient edge device polling appliance"};
  std::string config_path = "/etc/edgepoll/edgepoll.toml";
  bool check_only = false;
  std::string log_format = "text";
  app.set_version_flag("--version", std::string("edgepolld ") + kVersion);
  app.add_option("-c,--config", config_path, "main configuration file (devices.d/ beside it)")->capture_default_str();
  app.add_flag("--check-config", check_only, "validate the main file and devices.d, print devices per file, exit");
  app.add_option("--log-format", log_format,
                 "console log lines: text or json (under systemd the journal gets native entries either way)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  appliance::setup_logging(appliance::parse_log_format(log_format).value(), "edgepolld");

  if (check_only) {  // the files alone, never the cache
    const auto check = appliance::check_config(config_path);
    (check.ok ? std::cout : std::cerr) << (check.ok ? "" : "edgepolld: ") << check.report << "\n";
    return check.ok ? 0 : check.valid ? 1 : 2;  // 1: valid but a prerequisite fails
  }
  auto boot = appliance::load_boot_config(config_path);  // the files, or the last-good cache when they fail
  if (!boot.ok()) {
    std::cerr << "edgepolld: " << boot.error().describe() << "\n";
    return 2;
  }
  if (boot->config.chaos.enabled) {
    auto allowed = appliance::fault_injection_allowed("chaos.refused", config_path + ": [chaos] enabled = true",
                                                      "remove the [chaos] section from the config");
    if (!allowed.ok()) {
      std::cerr << "edgepolld: " << allowed.error().describe() << "\n";
      return 2;
    }
    spdlog::warn("CHAOS HOOK ENABLED ([chaos] in {}): the control socket takes chaos.* requests; never in production",
                 config_path);
  }
  auto hooks_file = appliance::TestHooks::file_from_environment();
  if (!hooks_file.ok()) {
    std::cerr << "edgepolld: " << hooks_file.error().describe() << "\n";
    return 2;
  }

  boost::asio::io_context io;  // one event-loop thread: handlers never block
  // Installed before the tree starts: a SIGTERM while it boots (the health
  // port may already answer) is queued until the handler below waits for it,
  // and stops the tree cleanly instead of killing the process by default.
  boost::asio::signal_set signals(io, SIGINT, SIGTERM, SIGHUP);
  SteadyClock clock(io);
  Runtime runtime(io, clock);
  appliance::NodeParts parts =
      appliance::make_node_parts(io, std::move(boot->config), boot->source, boot->detail);
  // From here on the boot config is the one the config view holds (moved there,
  // not copied: at 10,000 devices a copy is tens of megabytes).
  const std::shared_ptr<const appliance::AppConfig> booted = parts.config_view->files();
  const appliance::AppConfig& running = *booted;
  runtime.add_observer(parts.supervision_events);

  auto root = runtime.spawn(
      std::make_shared<Supervisor>(appliance::node_tree(running, parts, runtime)), "root");
  if (!root.ok()) {
    spdlog::critical("edgepoll did not start: {}", root.error().describe());
    return 1;
  }
  (void)runtime.registry().register_name("root", root.value());
  spdlog::info("edgepoll running: {} devices from the {}, config {}", running.devices.size(),
               boot->source == appliance::ConfigSource::files ? "files" : "last-good cache",
               config_path);
  if (!running.files.devices_note.empty()) spdlog::info("config: {}", running.files.devices_note);
  std::optional<appliance::TestHooks> hooks;
  if (*hooks_file) hooks.emplace(**hooks_file, io, runtime, root.value(), parts);

  int exit_code = 0;
  runtime.on_exit(root.value(), [&](const ExitReason& reason) {
    exit_code = reason.is_clean() ? 0 : 1;
    spdlog::info("edgepoll stopped: {}", reason.to_string());
    io.stop();
  });
  appliance::ConfigReloader reloader(runtime, root.value(), parts, config_path);
  std::function<void(const boost::system::error_code&, int)> on_signal = [&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      appliance::notify_reloading();
      reloader.reload();
      appliance::notify_ready();
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
