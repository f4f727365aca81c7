#include "edgepoll/kafka/kafka_pool.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "edgepoll/kafka/fault_injecting_sink.hpp"
#include "edgepoll/kafka/outbox_drainer.hpp"
#include "edgepoll/kafka/producer.hpp"
#include "edgepoll/kafka/writer_outbox.hpp"
#include "edgepoll/supervision/loop_process.hpp"
#include "edgepoll/supervision/process.hpp"
#include "edgepoll/supervision/supervisor.hpp"

namespace edgepoll::kafka {

using namespace supervision;

namespace {

// Adds what the drainer counted since `last` to the node's totals (on the loop
// thread, the drainer's only reader).
void publish(const DrainerStats& now, DrainerStats& last, ProducerCounters& to) {
  to.produced += now.produced - last.produced;
  to.delivered += now.delivered - last.delivered;
  to.dead_lettered += now.dead_lettered - last.dead_lettered;
  to.retried += now.retried - last.retried;
  to.backoffs += now.backoffs - last.backoffs;
  to.probes += now.probes - last.probes;
  last = now;
}

// The producer's loop: pump the drainer; on stop, give in-flight records a
// few seconds to be acknowledged so their rows are deleted now rather than
// sent again after a restart.
Result<Loop> producer_loop(std::shared_ptr<storage::WriterHandle> writer,
                           const KafkaConfig& config, Clock& clock,
                           std::shared_ptr<ProducerCounters> counters,
                           std::shared_ptr<const FaultSwitch> faults) {
  struct Parts {
    explicit Parts(std::shared_ptr<storage::WriterHandle> w) : source(std::move(w)) {}
    WriterOutboxSource source;
    std::unique_ptr<Producer> producer;
    std::unique_ptr<FaultInjectingSink> faulty;  // [chaos] only
    std::unique_ptr<OutboxDrainer> drainer;
    std::atomic<std::uint64_t> delivered{0}, dead_lettered{0}, in_flight{0};
    std::atomic<bool> caught_up{false};
    DrainerStats published;  // loop thread only
  };
  auto handle = writer;
  auto p = std::make_shared<Parts>(std::move(writer));
  auto producer = Producer::create(config);
  if (!producer.ok()) return producer.take_error();
  p->producer = std::move(producer.value());
  if (faults) p->faulty = std::make_unique<FaultInjectingSink>(*p->producer, std::move(faults));
  RecordSink& sink = p->faulty ? static_cast<RecordSink&>(*p->faulty) : *p->producer;
  // The loop sleeps until there is work: rows committed (the store tells) or a
  // delivery report queued (librdkafka tells), at the latest idle_poll.
  // Unwoken, it would look every millisecond while records are in flight, and
  // each look is a round trip to the writer thread.
  auto wake = std::make_shared<LoopWake>();
  auto options = DrainerOptions::from(config);
  options.in_flight_poll = options.idle_poll;
  options.remove_every = options.idle_poll;
  p->drainer = std::make_unique<OutboxDrainer>(p->source, sink, clock, std::move(options));
  auto raise = [weak = std::weak_ptr(wake)] {
    if (auto w = weak.lock()) w->raise();
  };
  p->producer->wake_on_report(raise);
  handle->listen_for_commits(raise);
  spdlog::info("kafka event=producer_started bootstrap={} topic={}", config.bootstrap_servers, config.default_topic);
  Loop loop;
  loop.wake = wake;
  loop.step = [p, counters]() -> Result<Duration> {
    auto delay = p->drainer->pump();
    p->delivered = p->drainer->stats().delivered;
    p->dead_lettered = p->drainer->stats().dead_lettered;
    p->in_flight = p->drainer->in_flight();
    p->caught_up = p->drainer->caught_up();
    publish(p->drainer->stats(), p->published, *counters);
    counters->in_flight = p->drainer->in_flight();
    if (auto fatal = p->producer->fatal_error()) return *fatal;
    return delay;
  };
  loop.finish = [p, counters] {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (p->drainer->in_flight() > 0 && std::chrono::steady_clock::now() < deadline) {
      (void)p->producer->flush(std::chrono::milliseconds(100));
      if (!p->drainer->pump().ok()) break;
    }
    (void)p->drainer->remove_acknowledged();  // a failure leaves rows to send again: duplicates, not loss
    publish(p->drainer->stats(), p->published, *counters);
    // What is still in flight is released and sent again by the next producer.
    counters->in_flight = 0;
  };
  loop.describe = [p](nlohmann::json& out) {
    out["delivered"] = p->delivered.load();
    out["dead_lettered"] = p->dead_lettered.load();
    out["in_flight"] = p->in_flight.load();
    out["caught_up"] = p->caught_up.load();
  };
  return loop;
}

// The command consumer's loop: poll without blocking; applying a command waits
// for the appliance's handler (the config cache) and a dead letter for its copy
// on the topic, which is why it has a thread.
Result<Loop> commands_loop(std::shared_ptr<storage::WriterHandle> writer, const KafkaConfig& config,
                           const CommandHandlerFactory& make_handler, const Clock& clock,
                           std::shared_ptr<CommandCounters> counters) {
  struct Parts {
    Parts(std::unique_ptr<CommandHandler> h, std::shared_ptr<storage::WriterHandle> w)
        : handler(std::move(h)), dead_letters(std::move(w)) {}
    std::unique_ptr<CommandHandler> handler;
    WriterDeadLetters dead_letters;
    std::unique_ptr<CommandConsumer> consumer;
    CommandStats published;  // loop thread only
  };
  auto p = std::make_shared<Parts>(make_handler(), std::move(writer));
  auto consumer = CommandConsumer::create(config, *p->handler, p->dead_letters, clock);
  if (!consumer.ok()) return consumer.take_error();
  p->consumer = std::move(consumer.value());
  spdlog::info("kafka event=commands_started topic={} group={} node={}", config.commands_topic,
               config.commands_group(), config.node_id);
  auto publish = [p, counters] {
    const auto& now = p->consumer->stats();
    counters->applied += now.applied - p->published.applied;
    counters->dead_lettered += now.dead_lettered - p->published.dead_lettered;
    counters->ignored_other_node += now.ignored_other_node - p->published.ignored_other_node;
    counters->retries += now.retries - p->published.retries;
    p->published = now;
  };
  Loop loop;
  loop.step = [p, publish, &clock]() -> Result<Duration> {
    auto n = p->consumer->poll();
    publish();
    if (!n.ok()) return n.take_error();
    if (n.value() > 0) return Duration::zero();
    Duration idle = std::chrono::milliseconds(100);
    if (auto due = p->consumer->retry_due()) idle = std::clamp<Duration>(*due - clock.now(), Duration::zero(), idle);
    return idle;
  };
  loop.finish = [p, publish] {
    p->consumer->close();
    publish();
  };
  return loop;
}

}  // namespace

ChildSpec kafka_pool_child(std::shared_ptr<storage::WriterHandle> writer, KafkaConfig kafka,
                           CommandHandlerFactory make_handler, std::shared_ptr<ProducerCounters> counters,
                           std::shared_ptr<CommandCounters> command_counters, std::shared_ptr<Heartbeats> heartbeats,
                           std::shared_ptr<const FaultSwitch> faults) {
  ChildFactory producer = [writer, kafka, counters, heartbeats,
                           faults](const ChildStart&) -> Result<std::shared_ptr<Behaviour>> {
    return std::shared_ptr<Behaviour>(std::make_shared<LoopProcess>(
        [writer, kafka, counters, faults](Process& self) {
          return producer_loop(writer, kafka, self.clock(), counters, faults);
        },
        std::string{}, heartbeats));
  };
  ChildFactory commands = [writer, kafka, make_handler, command_counters,
                           heartbeats](const ChildStart&) -> Result<std::shared_ptr<Behaviour>> {
    return std::shared_ptr<Behaviour>(std::make_shared<LoopProcess>(
        [writer, kafka, make_handler, command_counters](Process& self) {
          return commands_loop(writer, kafka, make_handler, self.clock(), command_counters);
        },
        std::string{}, heartbeats));
  };
  // The producer flushes in-flight records on stop (up to 5 s).
  return supervisor_child(
      "kafka_pool",
      SupervisorSpec{{Strategy::one_for_one, 5, 60},
                     {worker_child("producer", producer, Restart::permanent, Shutdown::timeout(std::chrono::seconds(15))),
                      worker_child("commands", commands, Restart::permanent, Shutdown::timeout(std::chrono::seconds(15)))}});
}

}  // namespace edgepoll::kafka
