#include "edgepoll/appliance/node_tree.hpp"

#include <filesystem>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include "edgepoll/appliance/health_endpoint.hpp"
#include "edgepoll/appliance/kafka_pool.hpp"
#include "edgepoll/appliance/registration_metrics.hpp"
#include "edgepoll/appliance/subsystem_metrics.hpp"
#include "edgepoll/pollers/pollers_tree.hpp"
#include "edgepoll/storage/database.hpp"

namespace edgepoll::appliance {

using namespace supervision;

namespace {

// Refuses to boot on a node that cannot keep its promise (nothing lost): the
// state directory must be writable and the database must open and pass its
// checks. Its init failing fails the root's start with failed_to_start_child.
class Prerequisites final : public Behaviour {
 public:
  explicit Prerequisites(storage::StoreConfig config) : config_(std::move(config)) {}
  InitResult init(Process&) override {
    namespace fs = std::filesystem;
    const fs::path dir = fs::path(config_.path).parent_path();
    std::error_code ec;
    if (!dir.empty() && !fs::is_directory(dir, ec)) {
      return InitResult::error(make_error("prerequisites.state_dir", "state directory " + dir.string() + " does not exist",
                                          false, "create it, owned by the edgepoll user (the package does)"));
    }
    const fs::path probe = (dir.empty() ? fs::path(".") : dir) / ".edgepoll-write-probe";
    {
      std::FILE* f = std::fopen(probe.c_str(), "w");
      if (!f) {
        return InitResult::error(make_error("prerequisites.state_dir", "state directory " + dir.string() + " is not writable",
                                            false, "check its owner and mode"));
      }
      std::fclose(f);
      fs::remove(probe, ec);
    }
    auto db = storage::Database::open(config_);  // checks file type, schema and integrity
    if (!db.ok()) return InitResult::error(db.error());
    spdlog::info("prerequisites event=ok store={}", config_.path);
    return InitResult::ok();
  }

 private:
  storage::StoreConfig config_;
};

// Tells systemd we are ready once everything before it has started, pets the
// watchdog from the event loop (a wedged loop stops petting and gets the
// daemon restarted), and says STOPPING when the tree shuts down.
class Watchdog final : public Behaviour {
 public:
  InitResult init(Process& self) override {
    sd_notify(0, "READY=1\nSTATUS=polling");
    std::uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
      interval_ = std::chrono::microseconds(usec / 2);
      self.send_after(interval_, Pet{});
    }
    return InitResult::ok();
  }
  void handle(Process& self, Message& m) override {
    if (!std::any_cast<Pet>(&m)) return unexpected(self, m);
    sd_notify(0, "WATCHDOG=1");
    self.send_after(interval_, Pet{});
  }
  void terminate(Process&, const ExitReason&) override { sd_notify(0, "STOPPING=1"); }

 private:
  struct Pet {};
  Duration interval_{};
};

// Until the readiness evaluator of the health side is in NodeParts, the node is
// ready by /ready's own rule: every [health] ready_requires path runs.
ReadinessProbe tree_paths_probe(Runtime& runtime, std::vector<std::string> paths) {
  return [&runtime, paths = std::move(paths)] {
    const auto root = runtime.registry().whereis("root");
    std::string missing;
    for (const auto& p : paths)
      if (!root || !find_in_tree(*root, p)) missing += (missing.empty() ? "" : ", ") + p;
    return ReadinessVerdict{missing.empty(), missing.empty() ? "" : "not running: " + missing};
  };
}

// What the key says about this node, read from the running tree: the health
// endpoint's bound port (config port 0 picks one) and the devices polling now.
RegistrationSources registration_sources(const AppConfig& config, NodeParts& parts, Runtime& runtime) {
  RegistrationSources s;
  s.node_id = config.node.id;
  s.readiness = tree_paths_probe(runtime, config.health.ready_requires);
  s.status = parts.registration_status;
  s.counters = parts.registration_counters;
  s.advertise = [&runtime, address = config.health.address]() -> std::string {
    const auto root = runtime.registry().whereis("root");
    const Pid endpoint = root ? find_in_tree(*root, "root/health/http_endpoint") : Pid{};
    const auto b = endpoint ? endpoint.get()->behaviour() : nullptr;
    if (!b) return {};
    nlohmann::json d = nlohmann::json::object();
    b->describe(d);
    const auto port = d.value("port", 0);
    return port == 0 ? std::string() : address + ":" + std::to_string(port);
  };
  s.device_count = [&runtime]() -> std::size_t {
    const auto root = runtime.registry().whereis("root");
    return root ? count_children(find_in_tree(*root, "root/edge/pollers")).active : 0;
  };
  return s;
}

template <class B, class... Args>
ChildFactory make(Args... args) {
  return [args...](const ChildStart&) -> Result<std::shared_ptr<Behaviour>> {
    return std::shared_ptr<Behaviour>(std::make_shared<B>(args...));
  };
}

}  // namespace

NodeParts make_node_parts(boost::asio::io_context& io, const AppConfig& config, ConfigSource source,
                          std::string source_detail) {
  NodeParts parts;
  parts.transport = std::make_shared<pollers::HttpTransport>(io);
  parts.poller_context.transport = parts.transport.get();
  auto modbus = std::make_shared<pollers::ModbusTcpTransport>(io);
  parts.modbus = modbus;
  parts.poller_context.modbus = modbus.get();
  parts.poller_context.sink = parts.pipeline.get();
  parts.poller_context.max_consecutive_failures = config.pollers.max_consecutive_failures;
  parts.config_view = std::make_shared<ConfigView>(config, source, std::move(source_detail));
  register_subsystem_metrics(*parts.metrics,
                             {parts.poller_context.counters, parts.pipeline, parts.writer,
                              config.kafka ? parts.kafka_counters : nullptr, modbus->shared_stats()});
  if (config.registration) register_registration_metrics(*parts.metrics, parts.registration_counters);
  return parts;
}

ChildSpec storage_pool_spec(const AppConfig& config, NodeParts& parts) {
  return storage::storage_pool_child(config.storage, parts.writer);
}

ChildSpec kafka_pool_spec(const AppConfig& config, NodeParts& parts, Runtime& runtime) {
  return kafka_pool_child(parts.writer, *config.kafka, runtime, parts.kafka_counters);
}

ChildSpec health_spec(const AppConfig& config, NodeParts& parts, Runtime& runtime) {
  SupervisorSpec health{{Strategy::one_for_one, 5, 30},
                        {worker_child("http_endpoint", make<HealthEndpoint>(config.health, parts.metrics)),
                         worker_child("watchdog", make<Watchdog>())}};
  if (config.registration)
    health.children.push_back(registration_child(*config.registration, registration_sources(config, parts, runtime)));
  return supervisor_child("health", health);
}

ChildSpec pollers_spec(const AppConfig& config, NodeParts& parts) {
  pollers::PollerContext context = parts.poller_context;
  context.max_consecutive_failures = config.pollers.max_consecutive_failures;
  return pollers::pollers_child(context);
}

ChildSpec config_manager_spec(const AppConfig& config, NodeParts& parts) {
  // Every instance asks the config cache's view for the effective devices, so a
  // restarted config manager runs what the cache holds now, not the boot list.
  pollers::CurrentDevices current = [view = parts.config_view] {
    auto effective = view->effective();
    return effective ? effective->to_apply() : pollers::ApplyDevices{};
  };
  return pollers::config_manager_child(current, parts.started_devices, parts.poller_context, config.pollers.manager);
}

SupervisorSpec node_tree(const AppConfig& config, NodeParts& parts, Runtime& runtime) {
  // deps: storage and (later) Kafka pools are independent of each other.
  SupervisorSpec deps{{Strategy::one_for_one, 5, 30}, {storage_pool_spec(config, parts)}};
  if (config.kafka) deps.children.push_back(kafka_pool_spec(config, parts, runtime));
  // edge: rest_for_one [config_cache, pollers, config_manager]. Pollers are
  // meaningless without a config cache: if the cache restarts, the devices
  // restart after it from the config it holds (never from a stale copy). If
  // pollers restarts, the config manager restarts after it and starts every
  // device again; when the config manager alone restarts, it adopts the
  // running devices.
  SupervisorSpec edge{{Strategy::rest_for_one, 5, 30},
                      {config_cache_child(parts.config_view, parts.config_status), pollers_spec(config, parts),
                       config_manager_spec(config, parts)}};
  return SupervisorSpec{{Strategy::one_for_one, 3, 60},
                        {worker_child("prerequisites", make<Prerequisites>(config.storage), Restart::transient),
                         supervisor_child("deps", deps), supervisor_child("edge", edge), health_spec(config, parts, runtime)}};
}

}  // namespace edgepoll::appliance
