#pragma once
// The node's supervision tree (docs/architecture.md). This is the architecture:
//
// root  one_for_one
// ├── prerequisites   worker: state dir writable, free space, DB opens and passes its checks
// ├── deps  one_for_one          (may vanish; the node keeps polling into buffers)
// │   ├── storage_pool           writer (batched transactions), reader:1..N (queries)
// │   ├── kafka_pool             producer draining the outbox + command consumer ([kafka])
// │   └── metrics                samples the store through a reader, sets the node's gauges
// ├── edge  rest_for_one         (pollers are meaningless without a config cache)
// │   ├── config_cache           effective config = files + Kafka overlay, cached on disk
// │   ├── pollers                simple_one_for_one of TEMPORARY device subtrees
// │   └── config_manager         adopts running devices, restarts dead ones after jittered backoff
// └── health  one_for_one        (right side: starts last, reports the truth)
//     ├── http_endpoint          /health /ready /metrics /tree (read-only)
//     ├── control_socket         operator actions over a Unix socket (edgepollctl)
//     ├── registration           <prefix>/nodes/<id> in etcd while fit ([registration])
//     └── watchdog               sd_notify READY / WATCHDOG (from heartbeats) / STATUS / STOPPING
#include <memory>

#include "edgepoll/appliance/app_config.hpp"
#include "edgepoll/appliance/config_cache.hpp"
#include "edgepoll/appliance/config_status.hpp"
#include "edgepoll/kafka/kafka_pool.hpp"
#include "edgepoll/supervision/heartbeats.hpp"
#include "edgepoll/appliance/metrics.hpp"
#include "edgepoll/appliance/metrics_worker.hpp"
#include "edgepoll/appliance/readiness.hpp"
#include "edgepoll/appliance/reading_pipeline.hpp"
#include "edgepoll/appliance/registration.hpp"
#include "edgepoll/appliance/registration_status.hpp"
#include "edgepoll/appliance/store_quarantine_log.hpp"
#include "edgepoll/pollers/poller_context.hpp"
#include "edgepoll/storage/storage_pool.hpp"
#include "edgepoll/supervision/supervisor.hpp"

namespace edgepoll::appliance {

// Long-lived objects the tree's processes share; they outlive the tree.
struct NodeParts {
  // The metrics worker's registry while it runs (/metrics renders it), and the
  // supervision reports counted from boot (main adds it to the runtime).
  std::shared_ptr<MetricsBoard> metrics = std::make_shared<MetricsBoard>();
  std::shared_ptr<SupervisionEventCounts> supervision_events = std::make_shared<SupervisionEventCounts>();
  std::shared_ptr<storage::WriterHandle> writer = std::make_shared<storage::WriterHandle>();
  std::shared_ptr<ReadingPipeline> pipeline = std::make_shared<ReadingPipeline>(writer);
  std::shared_ptr<pollers::Transport> transport;
  std::shared_ptr<pollers::ModbusTransport> modbus;  // one connection per Modbus gateway, shared by its devices
  std::shared_ptr<const pollers::ModbusTransportStats> modbus_stats;  // its counters, for the metrics worker
  std::shared_ptr<pollers::SnmpTransport> snmp;      // a net-snmp session per SNMP device, on the loop
  pollers::PollerContext poller_context;
  std::shared_ptr<kafka::ProducerCounters> kafka_counters = std::make_shared<kafka::ProducerCounters>();
  std::shared_ptr<kafka::CommandCounters> command_counters = std::make_shared<kafka::CommandCounters>();
  std::shared_ptr<ConfigStatus> config_status = std::make_shared<ConfigStatus>();
  std::shared_ptr<StoreQuarantineLog> quarantine_log = std::make_shared<StoreQuarantineLog>(writer);
  std::shared_ptr<ConfigView> config_view;  // the accepted files and the effective config
  std::shared_ptr<pollers::StartedDevices> started_devices = std::make_shared<pollers::StartedDevices>();
  // Filled by the registration worker when [registration] is configured; "disabled" otherwise.
  std::shared_ptr<RegistrationStatus> registration_status = std::make_shared<RegistrationStatus>();
  std::shared_ptr<RegistrationCounters> registration_counters = std::make_shared<RegistrationCounters>();
  std::shared_ptr<storage::ReaderPool> readers = std::make_shared<storage::ReaderPool>();
  std::shared_ptr<StorageSampleBoard> storage_sample = std::make_shared<StorageSampleBoard>();
  std::shared_ptr<supervision::Heartbeats> heartbeats = std::make_shared<supervision::Heartbeats>();
  // Only with [chaos] enabled: the faults chaos.fail sets, read by the seams
  // (storage writer, producer sink, device transport); null otherwise.
  std::shared_ptr<supervision::FaultSwitch> faults;
  // Made by node_tree (it needs the runtime): /ready's checks, and the probe
  // the registration worker and STATUS= use.
  std::shared_ptr<Readiness> readiness;
  ReadinessProbe readiness_probe;
};

// Makes the parts (the metrics worker registers their counters in its registry).
// `config` moves into parts.config_view, which the daemon then reads it from:
// one copy of every device's config, not two.
NodeParts make_node_parts(boost::asio::io_context& io, AppConfig config,
                          ConfigSource source = ConfigSource::files,
                          std::string source_detail = {});
supervision::SupervisorSpec node_tree(const AppConfig& config, NodeParts& parts, supervision::Runtime& runtime);

// The children a section of the config owns, built from `config`: the tree is
// built from them, and a reload that changes a section restarts its children
// with specs built here again (one place for both).
supervision::ChildSpec storage_pool_spec(const AppConfig& config, NodeParts& parts);
supervision::ChildSpec kafka_pool_spec(const AppConfig& config, NodeParts& parts, supervision::Runtime& runtime);
// /ready's evaluator and its probe (parts.readiness, parts.readiness_probe),
// made before health_spec: by node_tree, and again by a reload that restarts health.
void make_readiness(const AppConfig& config, NodeParts& parts, supervision::Runtime& runtime);
supervision::ChildSpec metrics_spec(const AppConfig& config, NodeParts& parts);
supervision::ChildSpec health_spec(const AppConfig& config, NodeParts& parts, supervision::Runtime& runtime);
supervision::ChildSpec pollers_spec(const AppConfig& config, NodeParts& parts);
supervision::ChildSpec config_manager_spec(const AppConfig& config, NodeParts& parts);

}  // namespace edgepoll::appliance
