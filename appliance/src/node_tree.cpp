#include "edgepoll/appliance/node_tree.hpp"

#include <nlohmann/json.hpp>

#include "edgepoll/appliance/build_info.hpp"
#include "edgepoll/appliance/command_bridge.hpp"
#include "edgepoll/appliance/control_socket.hpp"
#include "edgepoll/appliance/health_endpoint.hpp"
#include "edgepoll/kafka/kafka_pool.hpp"
#include "edgepoll/appliance/metrics_worker.hpp"
#include "edgepoll/appliance/prerequisites.hpp"
#include "edgepoll/appliance/registration_metrics.hpp"
#include "edgepoll/appliance/subsystem_metrics.hpp"
#include "edgepoll/appliance/watchdog.hpp"
#include "edgepoll/pollers/fault_injecting_transport.hpp"
#include "edgepoll/pollers/pollers_tree.hpp"

namespace edgepoll::appliance {

using namespace supervision;

namespace {

// What the key says about this node, read from the running tree: the health
// endpoint's bound port (config port 0 picks one) and the devices polling now.
RegistrationSources registration_sources(const AppConfig& config, NodeParts& parts, Runtime& runtime) {
  RegistrationSources s;
  s.node_id = config.node.id;
  s.readiness = parts.readiness_probe;
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

NodeParts make_node_parts(boost::asio::io_context& io, AppConfig config, ConfigSource source,
                          std::string source_detail) {
  NodeParts parts;
  parts.transport = std::make_shared<pollers::HttpTransport>(io);
  if (config.chaos.enabled) {
    parts.faults = std::make_shared<FaultSwitch>();
    parts.writer->use_faults(parts.faults);
    parts.transport = std::make_shared<pollers::FaultInjectingTransport>(io, parts.transport, parts.faults);
  }
  parts.poller_context.transport = parts.transport.get();
  auto modbus = std::make_shared<pollers::ModbusTcpTransport>(io);
  parts.modbus = modbus;
  parts.poller_context.modbus = modbus.get();
  parts.snmp = std::make_shared<pollers::SnmpTransport>(io);
  parts.poller_context.snmp = parts.snmp.get();
  parts.poller_context.sink = parts.pipeline.get();
  parts.poller_context.max_consecutive_failures = config.pollers.max_consecutive_failures;
  parts.modbus_stats = modbus->shared_stats();
  parts.config_view =
      std::make_shared<ConfigView>(std::move(config), source, std::move(source_detail));
  return parts;
}

ChildSpec storage_pool_spec(const AppConfig& config, NodeParts& parts) {
  return storage::storage_pool_child(config.storage, parts.writer, parts.readers);
}

ChildSpec kafka_pool_spec(const AppConfig& config, NodeParts& parts, Runtime& runtime) {
  kafka::KafkaConfig kafka = *config.kafka;
  kafka.node_id = config.node.id;  // its own commands group, and the commands addressed to it
  kafka::CommandHandlerFactory commands = [&runtime] { return std::make_unique<ConfigCommands>(runtime); };
  return kafka::kafka_pool_child(parts.writer, std::move(kafka), std::move(commands), parts.kafka_counters,
                                 parts.command_counters, parts.heartbeats, parts.faults);
}

ChildSpec metrics_spec(const AppConfig& config, NodeParts& parts) {
  // The worker owns the registry: it registers these sources' families in its init.
  return worker_child(
      "metrics",
      make<MetricsWorker>(MetricsWorkerSources{
          parts.metrics,
          {parts.poller_context.counters, parts.pipeline, parts.writer, config.kafka ? parts.kafka_counters : nullptr,
           parts.modbus_stats, config.kafka ? parts.command_counters : nullptr, parts.quarantine_log,
           parts.snmp->shared_stats()},
          parts.supervision_events, config.registration ? parts.registration_counters : nullptr, parts.readers,
          parts.storage_sample, parts.poller_context.activity, config.health.readiness.devices_intervals,
          parts.registration_status}));
}

// parts.readiness is made by node_tree before this is first called.
ChildSpec health_spec(const AppConfig& config, NodeParts& parts, Runtime& runtime) {
  SupervisorSpec health{
      {Strategy::one_for_one, 5, 30},
      {worker_child("http_endpoint",
                    make<HealthEndpoint>(config.health, std::shared_ptr<const MetricsBoard>(parts.metrics),
                                         std::shared_ptr<const Readiness>(parts.readiness))),
       worker_child("control_socket", make<ControlSocket>(config.control, parts.writer,
                                                          std::shared_ptr<const ConfigView>(parts.config_view),
                                                          std::string("root"), parts.faults))}};
  if (config.registration)
    health.children.push_back(registration_child(*config.registration, registration_sources(config, parts, runtime)));
  // The watchdog stays last: its init says READY=1 once everything before it runs.
  health.children.push_back(
      worker_child("watchdog", make<Watchdog>(WatchdogSources{parts.heartbeats, parts.writer, parts.readiness})));
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
  return pollers::config_manager_child(current, parts.started_devices, parts.poller_context, config.pollers.manager,
                                       parts.quarantine_log.get());
}

void make_readiness(const AppConfig& config, NodeParts& parts, Runtime& runtime) {
  parts.readiness = std::make_shared<Readiness>(
      config.health.readiness,
      ReadinessSources{parts.writer, config.storage.queue_capacity, parts.storage_sample, config.kafka.has_value(),
                       parts.poller_context.activity, parts.config_status, parts.registration_status},
      runtime);
  parts.readiness_probe = parts.readiness->probe();
}

SupervisorSpec node_tree(const AppConfig& config, NodeParts& parts, Runtime& runtime) {
  make_readiness(config, parts, runtime);
  // deps: storage and Kafka pools are independent of each other; metrics samples the store through its readers.
  SupervisorSpec deps{{Strategy::one_for_one, 5, 30}, {storage_pool_spec(config, parts)}};
  if (config.kafka) deps.children.push_back(kafka_pool_spec(config, parts, runtime));
  deps.children.push_back(metrics_spec(config, parts));
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
                        {worker_child("prerequisites",
                                      make<Prerequisites>(config.storage,
                                                          std::shared_ptr<const storage::WriterHandle>(parts.writer)),
                                      Restart::transient),
                         supervisor_child("deps", deps), supervisor_child("edge", edge), health_spec(config, parts, runtime)}};
}

}  // namespace edgepoll::appliance
