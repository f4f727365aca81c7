#pragma once
// The subsystems' own counters (pollers, Modbus gateways, reading pipeline,
// storage writer, Kafka producer) as Prometheus families. Their libraries keep plain atomics and know
// nothing of Prometheus; this copies them in before each /metrics render.
//
// Totals (*_total) are Prometheus counters incremented by what changed since the
// previous render; levels (buffered, queued, in flight) are gauges set to the
// current value. Labels are kinds only, never device ids.
#include <memory>

#include "edgepoll/kafka/kafka_pool.hpp"
#include "edgepoll/appliance/metrics.hpp"
#include "edgepoll/appliance/reading_pipeline.hpp"
#include "edgepoll/appliance/store_quarantine_log.hpp"
#include "edgepoll/pollers/poller_context.hpp"
#include "edgepoll/storage/storage_pool.hpp"

namespace edgepoll::appliance {

struct SubsystemSources {
  std::shared_ptr<const pollers::PollerCounters> pollers;
  std::shared_ptr<const ReadingPipeline> pipeline;
  // The current writer, if any. Its stats start from zero in every writer
  // process: what a writer counted after the last render before it stopped is
  // not seen (storage restarts are rare; the pipeline's totals span them).
  std::shared_ptr<const storage::WriterHandle> writer;
  std::shared_ptr<const kafka::ProducerCounters> kafka;  // null: no [kafka], no kafka families
  std::shared_ptr<const pollers::ModbusTransportStats> modbus;  // the Modbus gateways' connections
  std::shared_ptr<const kafka::CommandCounters> commands;  // null: no [kafka]
  std::shared_ptr<const StoreQuarantineLog> quarantine_log;
  std::shared_ptr<const pollers::SnmpTransportStats> snmp{};  // the SNMP agents' sessions
};

// Registers the families in `metrics` and a collector that keeps them current.
void register_subsystem_metrics(Metrics& metrics, SubsystemSources sources);

}  // namespace edgepoll::appliance
