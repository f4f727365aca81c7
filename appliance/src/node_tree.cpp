#include "edgepoll/appliance/node_tree.hpp"

#include <filesystem>

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include "edgepoll/appliance/health_endpoint.hpp"
#include "edgepoll/appliance/kafka_pool.hpp"
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
  return parts;
}

ChildSpec storage_pool_spec(const AppConfig& config, NodeParts& parts) {
  return storage::storage_pool_child(config.storage, parts.writer);
}

ChildSpec kafka_pool_spec(const AppConfig& config, NodeParts& parts, Runtime& runtime) {
  return kafka_pool_child(parts.writer, *config.kafka, runtime, parts.kafka_counters);
}

ChildSpec health_spec(const AppConfig& config, NodeParts& parts) {
  return supervisor_child("health", SupervisorSpec{{Strategy::one_for_one, 5, 30},
                                                   {worker_child("http_endpoint", make<HealthEndpoint>(config.health, parts.metrics)),
                                                    worker_child("watchdog", make<Watchdog>())}});
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
                         supervisor_child("deps", deps), supervisor_child("edge", edge), health_spec(config, parts)}};
}

}  // namespace edgepoll::appliance
