#include "edgepoll/appliance/subsystem_metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace edgepoll::appliance {

namespace {

using Field = std::atomic<std::uint64_t>;

// Prometheus counters can only go up, so each follows its atomic by adding the
// growth since the previous render. A source that went back (a new writer
// counting from zero) is taken as having restarted from zero.
template <class Stats>
class Totals {
 public:
  void add(prometheus::Counter& counter, Field Stats::*field) {
    entries_.push_back({field, &counter});
  }
  void sample(const Stats& stats) {
    for (auto& e : entries_) {
      const std::uint64_t now = (stats.*e.field).load(std::memory_order_relaxed);
      e.counter->Increment(static_cast<double>(now >= e.last ? now - e.last : now));
      e.last = now;
    }
  }
  void restart() {
    for (auto& e : entries_) e.last = 0;
  }

 private:
  struct Entry {
    Field Stats::*field;
    prometheus::Counter* counter;
    std::uint64_t last = 0;
  };
  std::vector<Entry> entries_;
};

// Levels (how much is waiting right now) are gauges set to the current value.
template <class Stats>
class Levels {
 public:
  void add(prometheus::Gauge& gauge, Field Stats::*field) { entries_.push_back({field, &gauge}); }
  void set(const Stats& stats) {
    for (auto& e : entries_)
      e.gauge->Set(static_cast<double>((stats.*e.field).load(std::memory_order_relaxed)));
  }
  void zero() {
    for (auto& e : entries_) e.gauge->Set(0);
  }

 private:
  struct Entry {
    Field Stats::*field;
    prometheus::Gauge* gauge;
  };
  std::vector<Entry> entries_;
};

class Registrar {
 public:
  explicit Registrar(prometheus::Registry& registry) : registry_(registry) {}
  prometheus::Counter& counter(const std::string& name, const std::string& help) {
    return prometheus::BuildCounter().Name(name).Help(help).Register(registry_).Add({});
  }
  prometheus::Family<prometheus::Counter>& counters(const std::string& name,
                                                    const std::string& help) {
    return prometheus::BuildCounter().Name(name).Help(help).Register(registry_);
  }
  prometheus::Gauge& gauge(const std::string& name, const std::string& help) {
    return prometheus::BuildGauge().Name(name).Help(help).Register(registry_).Add({});
  }

 private:
  prometheus::Registry& registry_;
};

struct Collector {
  SubsystemSources sources;
  Totals<pollers::PollerCounters> pollers;
  Totals<PipelineStats> pipeline;
  Levels<PipelineStats> pipeline_levels;
  Totals<storage::WriterStats> store;
  Levels<storage::WriterStats> store_levels;
  std::weak_ptr<const storage::BatchWriter> writer_seen;  // kept as identity only
  Totals<kafka::ProducerCounters> kafka;
  Levels<kafka::ProducerCounters> kafka_levels;
  Totals<pollers::ModbusTransportStats> modbus;
  Totals<kafka::CommandCounters> commands;
  Totals<StoreQuarantineLog::Stats> quarantine_log;
  Totals<pollers::SnmpTransportStats> snmp;

  void collect() {
    if (sources.pollers) pollers.sample(*sources.pollers);
    if (sources.pipeline) {
      pipeline.sample(sources.pipeline->stats());
      pipeline_levels.set(sources.pipeline->stats());
    }
    if (sources.writer) collect_writer();
    if (sources.modbus) modbus.sample(*sources.modbus);
    if (sources.kafka) {
      kafka.sample(*sources.kafka);
      kafka_levels.set(*sources.kafka);
    }
    if (sources.commands) commands.sample(*sources.commands);
    if (sources.quarantine_log) quarantine_log.sample(sources.quarantine_log->stats());
    if (sources.snmp) snmp.sample(*sources.snmp);
  }

  void collect_writer() {
    const std::shared_ptr<const storage::BatchWriter> writer = sources.writer->get();
    if (!writer) return store_levels.zero();  // storage restarting: nothing queued in a writer
    // Owner comparison: the weak_ptr keeps the control block, so a new writer
    // can never look like the old one even at the same address.
    if (writer_seen.owner_before(writer) || writer.owner_before(writer_seen)) {
      store.restart();
      writer_seen = writer;
    }
    store.sample(writer->stats());
    store_levels.set(writer->stats());
  }
};

void add_pollers(Registrar& r, Collector& c) {
  using P = pollers::PollerCounters;
  auto& t = c.pollers;
  t.add(r.counter("edgepoll_polls_total", "Device polls completed, successful or not."), &P::polls);
  t.add(r.counter("edgepoll_poll_failures_total",
                  "Polls that got no usable response (connect error, timeout, HTTP error)."),
        &P::poll_failures);
  t.add(r.counter("edgepoll_decode_failures_total",
                  "Polls whose response body could not be decoded into readings."),
        &P::decode_failures);
  t.add(r.counter("edgepoll_field_errors_total",
                  "Configured metrics missing or of the wrong type in an otherwise decoded body."),
        &P::field_errors);
  t.add(r.counter("edgepoll_readings_total", "Readings decoded from device responses."),
        &P::readings);
  auto& skipped =
      r.counters("edgepoll_poll_ticks_skipped_total",
                 "Poll ticks not polled, by kind: busy (the previous poll still running "
                 "or the connection refusing it), breaker_open (the device's breaker "
                 "held it back), late (the tick came more than half an interval late: "
                 "shed so that a loop that is behind catches up).");
  t.add(skipped.Add({{"kind", "busy"}}), &P::skipped_busy);
  t.add(skipped.Add({{"kind", "breaker_open"}}), &P::skipped_open);
  t.add(skipped.Add({{"kind", "late"}}), &P::shed_late);
  t.add(r.counter("edgepoll_device_quarantines_total",
                  "Device subtrees that gave up (restart intensity reached) and were quarantined."),
        &P::quarantines);
  t.add(r.counter("edgepoll_device_restarts_total",
                  "Quarantined devices started again by the config manager after their backoff."),
        &P::device_restarts);
}

void add_pipeline(Registrar& r, Collector& c) {
  using S = PipelineStats;
  auto& t = c.pipeline;
  t.add(r.counter("edgepoll_pipeline_submitted_total",
                  "Polls' readings handed to the pipeline (one outbox row each)."),
        &S::submitted);
  t.add(r.counter(
            "edgepoll_pipeline_stored_total",
            "Outbox rows the storage writer acknowledged after COMMIT (across writer restarts)."),
        &S::stored);
  t.add(r.counter("edgepoll_pipeline_store_failures_total",
                  "Outbox rows the storage writer accepted and then answered with an error."),
        &S::store_errors);
  t.add(
      r.counter("edgepoll_pipeline_dropped_total",
                "Outbox rows dropped: no writer and the buffer full, or the writer's queue full."),
      &S::dropped);
  c.pipeline_levels.add(r.gauge("edgepoll_pipeline_buffered",
                                "Outbox rows waiting in memory for a storage writer right now."),
                        &S::buffered);
}

void add_store(Registrar& r, Collector& c) {
  using W = storage::WriterStats;
  auto& t = c.store;
  t.add(r.counter("edgepoll_store_submitted_total",
                  "Readings accepted into the storage writer's queue."),
        &W::submitted);
  t.add(
      r.counter("edgepoll_store_committed_total", "Readings written to the outbox and committed."),
      &W::committed);
  t.add(r.counter("edgepoll_store_batches_total", "Write transactions committed."), &W::batches);
  t.add(r.counter("edgepoll_store_dropped_total",
                  "Readings the writer refused (queue full) or failed at stop."),
        &W::dropped);
  t.add(r.counter("edgepoll_store_retention_dropped_total",
                  "Undelivered outbox rows deleted by retention (outbox size or age limit)."),
        &W::retention_dropped);
  auto& errors = r.counters("edgepoll_store_errors_total",
                            "Failed write attempts by kind (busy, disk_full, read_only, corrupt, "
                            "other); the writer keeps the readings and retries.");
  t.add(errors.Add({{"kind", "busy"}}), &W::errors_busy);
  t.add(errors.Add({{"kind", "disk_full"}}), &W::errors_disk_full);
  t.add(errors.Add({{"kind", "read_only"}}), &W::errors_read_only);
  t.add(errors.Add({{"kind", "corrupt"}}), &W::errors_corrupt);
  t.add(errors.Add({{"kind", "other"}}), &W::errors_other);
  c.store_levels.add(
      r.gauge("edgepoll_store_queued", "Readings waiting in the storage writer's queue right now."),
      &W::queued);
}

void add_kafka(Registrar& r, Collector& c) {
  using K = kafka::ProducerCounters;
  auto& t = c.kafka;
  t.add(r.counter("edgepoll_kafka_produced_total", "Outbox records handed to the Kafka producer."),
        &K::produced);
  t.add(r.counter("edgepoll_kafka_delivered_total",
                  "Records acknowledged by Kafka and deleted from the outbox."),
        &K::delivered);
  t.add(r.counter("edgepoll_kafka_dead_lettered_total",
                  "Records Kafka refused permanently, moved to the dead letters table."),
        &K::dead_lettered);
  t.add(r.counter("edgepoll_kafka_retried_total",
                  "Records queued to be sent again after a retriable delivery failure."),
        &K::retried);
  t.add(
      r.counter("edgepoll_kafka_backoffs_total",
                "Times the producer paused sending after retriable failures (broker unreachable)."),
      &K::backoffs);
  t.add(r.counter("edgepoll_kafka_probes_total",
                  "Records sent alone while the producer paused, so the first acknowledgement "
                  "ends the pause."),
        &K::probes);
  c.kafka_levels.add(r.gauge("edgepoll_kafka_in_flight",
                             "Records produced and waiting for their delivery report right now."),
                     &K::in_flight);
}

void add_modbus(Registrar& r, Collector& c) {
  using M = pollers::ModbusTransportStats;
  auto& t = c.modbus;
  t.add(r.counter("edgepoll_modbus_connects_total", "Modbus gateway connections established."),
        &M::connects);
  t.add(r.counter("edgepoll_modbus_connect_failures_total",
                  "Modbus gateway connection attempts that failed (refused, unreachable, timed out)."),
        &M::connect_failures);
  t.add(r.counter("edgepoll_modbus_disconnects_total",
                  "Established gateway connections that ended (reset, closed, unframeable bytes)."),
        &M::disconnects);
  t.add(r.counter("edgepoll_modbus_requests_total", "Modbus read requests sent."), &M::requests);
  t.add(r.counter("edgepoll_modbus_answers_total",
                  "Modbus answers matched to their request (exception responses included)."),
        &M::answers);
  t.add(r.counter("edgepoll_modbus_timeouts_total", "Modbus requests with no answer in their timeout."),
        &M::timeouts);
  t.add(r.counter("edgepoll_modbus_resent_total",
                  "Requests of other units sent again because their gateway connection died."),
        &M::resent);
  t.add(r.counter("edgepoll_modbus_stray_answers_total",
                  "Modbus answers that matched no request in flight (late, after a timeout)."),
        &M::stray);
}

void add_snmp(Registrar& r, Collector& c) {
  using S = pollers::SnmpTransportStats;
  auto& t = c.snmp;
  t.add(r.counter("edgepoll_snmp_requests_total",
                  "SNMP PDUs sent (engine discovery probes included, retransmissions not)."),
        &S::requests);
  t.add(r.counter("edgepoll_snmp_answers_total", "SNMP answers matched to their request."), &S::answers);
  t.add(r.counter("edgepoll_snmp_timeouts_total", "SNMP requests unanswered after their retries."),
        &S::timeouts);
  t.add(r.counter("edgepoll_snmp_reports_total",
                  "SNMPv3 requests refused by a USM report (unknown user, wrong digest, decryption)."),
        &S::reports);
  t.add(r.counter("edgepoll_snmp_stray_answers_total",
                  "SNMP answers from another address or port than the agent's, dropped."),
        &S::stray);
}

void add_commands(Registrar& r, Collector& c) {
  using C = kafka::CommandCounters;
  auto& t = c.commands;
  auto& outcomes = r.counters("edgepoll_kafka_commands_total",
                              "Commands read from the commands topic by outcome: applied, dead_lettered "
                              "(could not be parsed or applied, or retries ran out), ignored_other_node "
                              "(addressed to another appliance).");
  t.add(outcomes.Add({{"outcome", "applied"}}), &C::applied);
  t.add(outcomes.Add({{"outcome", "dead_lettered"}}), &C::dead_lettered);
  t.add(outcomes.Add({{"outcome", "ignored_other_node"}}), &C::ignored_other_node);
  t.add(r.counter("edgepoll_kafka_command_retries_total",
                  "Commands tried again after a retryable failure (the config manager unavailable or slow)."),
        &C::retries);
}

void add_quarantine_log(Registrar& r, Collector& c) {
  c.quarantine_log.add(r.counter("edgepoll_quarantine_log_write_failures_total",
                                 "Quarantines or releases that could not be written to device_state "
                                 "(the quarantine holds in memory; a daemon restart would forget it)."),
                       &StoreQuarantineLog::Stats::write_failures);
}

}  // namespace

void register_subsystem_metrics(Metrics& metrics, SubsystemSources sources) {
  Registrar r(metrics.registry());
  auto c = std::make_shared<Collector>();
  if (sources.pollers) add_pollers(r, *c);
  if (sources.pipeline) add_pipeline(r, *c);
  if (sources.writer) add_store(r, *c);
  if (sources.kafka) add_kafka(r, *c);
  if (sources.modbus) add_modbus(r, *c);
  if (sources.commands) add_commands(r, *c);
  if (sources.quarantine_log) add_quarantine_log(r, *c);
  if (sources.snmp) add_snmp(r, *c);
  c->sources = std::move(sources);
  metrics.on_collect([c] { c->collect(); });
}

}  // namespace edgepoll::appliance
