// edgepollctl: the operator's view of edgepolld and its hands on it. main()
// only declares the command line and dispatches (commands.hpp).
#include <CLI/CLI.hpp>
#include <iostream>

#include "commands.hpp"
#include "edgepoll/appliance/config_check.hpp"
#include "edgepoll/version.hpp"
#include "output.hpp"

using namespace edgepoll;
using namespace edgepoll::ctl;

namespace {

int usage(const std::string& message) {
  std::cerr << "edgepollctl: " << message << " (edgepollctl --help)\n";
  return kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"edgepollctl: look at and operate a running edgepolld"};
  app.set_version_flag("--version", std::string("edgepollctl ") + kVersion);
  app.require_subcommand(1);
  app.fallthrough();  // global options may also follow the subcommand
  GlobalOptions g;
  app.add_option("--health", g.health_url, "health endpoint, http://HOST:PORT (default: the config's [health])");
  app.add_option("--socket", g.socket, "control socket (default: the config's [control] socket)");
  auto* config_opt = app.add_option("--config", g.config, "edgepolld's config file")->capture_default_str();
  app.add_flag("--json", g.json, "print JSON for scripts instead of tables");

  std::string state, source, since, id, key, reason, check_path;
  bool all = false;
  std::string action;
  auto* status = app.add_subcommand("status", "readiness, devices by state, outbox, Kafka and registration");
  auto* tree = app.add_subcommand("tree", "the supervision tree with strategies, child counts and states");
  auto* devices = app.add_subcommand("devices", "a table of devices");
  devices->add_option("--state", state, "only devices in this state")
      ->check(CLI::IsMember({"polling", "degraded", "backoff", "connecting", "quarantined", "disabled", "stopped"}));
  auto* device = app.add_subcommand("device", "one device")->require_subcommand(1);
  auto* device_show = device->add_subcommand("show", "everything known about one device");
  device_show->add_option("ID", id, "device id")->required();
  for (const char* verb : {"enable", "disable", "poll-now"}) {
    auto* sub = device->add_subcommand(verb, std::string(verb) + " a device (over the control socket)");
    sub->add_option("ID", id, "device id")->required();
    sub->callback([&action, verb] { action = verb; });
  }
  auto* dlq = app.add_subcommand("dlq", "dead letters: readings Kafka refused, commands that could not apply")
                  ->require_subcommand(1);
  auto* dlq_list = dlq->add_subcommand("list", "list dead letters");
  dlq_list->add_option("--source", source, "reading or command")->check(CLI::IsMember({"reading", "command"}));
  dlq_list->add_option("--since", since, "last seen at or after T (2026-12-01T08:00:00Z, or a duration ago: 30m)");
  auto* dlq_show = dlq->add_subcommand("show", "one dead letter with its record");
  dlq_show->add_option("KEY", key, "its id (first column of dlq list) or record key")->required();
  auto* dlq_replay = dlq->add_subcommand("replay", "a reading back into the outbox, a command applied again");
  dlq_replay->add_option("KEY", key, "its id or record key");
  dlq_replay->add_flag("--all", all, "every dead letter");
  auto* dlq_drop = dlq->add_subcommand("drop", "delete dead letters (logged with the reason)");
  dlq_drop->add_option("KEY", key, "its id or record key");
  dlq_drop->add_flag("--all", all, "every dead letter");
  dlq_drop->add_option("--reason", reason, "why (goes to the daemon's log)")->required();
  auto* config = app.add_subcommand("config", "the configuration")->require_subcommand(1);
  auto* config_check = config->add_subcommand("check", "validate a config file as edgepolld --check-config does");
  config_check->add_option("PATH", check_path, "file to check (default: --config)");
  auto* config_show = config->add_subcommand("show", "the effective config (files + Kafka overlay) with provenance");
  config_show->add_option("--device", id, "only this device");
  auto* overlay = config->add_subcommand("overlay", "the changes Kafka commands made over the files")->require_subcommand(1);
  auto* overlay_clear = overlay->add_subcommand("clear", "drop a device's overlay, or all of it: the files apply again");
  overlay_clear->add_option("--device", id, "the device whose overlay entry goes");
  overlay_clear->add_flag("--all", all, "the whole overlay");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help, the version or the usage error
    return code == 0 ? kExitOk : kExitUsage;
  }
  g.config_given = config_opt->count() > 0;

  if (config_check->parsed()) {
    // In-process, with the daemon's own validation; needs no running daemon.
    const auto check = appliance::check_config(check_path.empty() ? g.config : check_path);
    if (g.json) std::cout << nlohmann::json{{"ok", check.ok}, {"report", check.report}}.dump() << "\n";
    else (check.ok ? std::cout : std::cerr) << check.report << "\n";
    return check.ok ? kExitOk : kExitNotOk;
  }
  if ((dlq_replay->parsed() || dlq_drop->parsed()) && key.empty() == !all) {
    return usage(std::string("dlq ") + (dlq_replay->parsed() ? "replay" : "drop") + ": give a KEY or --all, not both");
  }
  if (overlay_clear->parsed() && id.empty() == !all) {
    return usage("config overlay clear: give --device ID or --all, not both");
  }
  auto context = Context::resolve(g);
  if (!context.ok()) {
    if (context.error().code == "ctl.usage") return usage(context.error().message);
    return fail(context.error(), g.json);
  }
  const Context& c = context.value();
  if (status->parsed()) return run_status(c);
  if (tree->parsed()) return run_tree(c);
  if (devices->parsed()) return run_devices(c, state);
  if (device_show->parsed()) return run_device_show(c, id);
  if (!action.empty()) return run_device_action(c, action, id);
  if (dlq_list->parsed()) return run_dlq_list(c, source, since);
  if (dlq_show->parsed()) return run_dlq_show(c, key);
  if (dlq_replay->parsed()) return run_dlq_replay(c, key, all);
  if (dlq_drop->parsed()) return run_dlq_drop(c, key, all, reason);
  if (config_show->parsed()) return run_config_show(c, id);
  if (overlay_clear->parsed()) return run_config_overlay_clear(c, id, all);
  return usage("no command");
}
