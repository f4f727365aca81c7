#include "edgepoll/appliance/kafka_pool.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <future>
#include <set>

#include "edgepoll/kafka/fault_injecting_sink.hpp"
#include "edgepoll/kafka/outbox_drainer.hpp"
#include "edgepoll/kafka/producer.hpp"
#include "edgepoll/appliance/command_bridge.hpp"
#include "edgepoll/appliance/loop_process.hpp"
#include "edgepoll/supervision/process.hpp"
#include "edgepoll/supervision/supervisor.hpp"

namespace edgepoll::appliance {

using namespace supervision;

namespace {

// The outbox seen through the current storage writer: every call is one of the
// writer's operations, waited for on the drain thread. Rows this source marked
// in flight are released when it ends, so that a restarted producer sends them
// again instead of leaving them marked (the marks live in the writer's memory).
class WriterOutboxSource final : public kafka::OutboxSource {
 public:
  explicit WriterOutboxSource(std::shared_ptr<storage::WriterHandle> handle) : handle_(std::move(handle)) {}
  ~WriterOutboxSource() override {
    if (marked_.empty()) return;
    if (auto w = handle_->get()) {
      // Best effort: a writer that is gone took its marks with it.
      (void)wait<Ok>([&](auto done) { w->release_in_flight({marked_.begin(), marked_.end()}, done); });
    }
  }

  Result<std::vector<kafka::OutboxItem>> fetch_after(std::int64_t after_id, std::size_t limit) override {
    auto w = handle_->get();
    if (!w) return std::vector<kafka::OutboxItem>{};  // storage restarting: nothing to send yet
    auto rows = wait<std::vector<storage::OutboxRecord>>([&](auto done) { w->fetch_oldest_batch(limit, done); });
    if (!rows.ok()) return rows.take_error();
    std::vector<kafka::OutboxItem> items;
    for (auto& r : rows.value()) {
      if (r.outbox_id <= after_id) continue;  // fetched before and not yet marked
      items.push_back({r.outbox_id, r.id.device_id, r.id.seq, r.timestamp_ms, std::move(r.payload)});
    }
    return items;
  }
  Status mark_in_flight(std::span<const std::int64_t> ids) override {
    auto w = writer();
    if (!w.ok()) return w.take_error();
    marked_.insert(ids.begin(), ids.end());
    return wait<Ok>([&](auto done) { w.value()->mark_in_flight({ids.begin(), ids.end()}, done); });
  }
  Status remove(std::span<const std::int64_t> ids) override {
    auto w = writer();
    if (!w.ok()) return w.take_error();
    for (auto id : ids) marked_.erase(id);
    auto n = wait<std::size_t>([&](auto done) { w.value()->delete_acknowledged({ids.begin(), ids.end()}, done); });
    if (!n.ok()) return n.take_error();
    return ok_status();
  }
  Status dead_letter(const kafka::OutboxItem& item, const Error& reason) override {
    auto w = writer();
    if (!w.ok()) return w.take_error();
    marked_.erase(item.outbox_id);
    return wait<Ok>([&](auto done) { w.value()->move_to_dead_letters(item.outbox_id, reason.describe(), done); });
  }

 private:
  Result<std::shared_ptr<storage::BatchWriter>> writer() const {
    if (auto w = handle_->get()) return w;
    return make_error("storage.unavailable", "the storage writer is not running", true);
  }
  template <class T, class Call>
  static Result<T> wait(Call call) {
    auto promise = std::make_shared<std::promise<Result<T>>>();
    auto future = promise->get_future();
    call([promise](Result<T> r) { promise->set_value(std::move(r)); });
    return future.get();  // the writer answers every operation, also when stopping
  }

  std::shared_ptr<storage::WriterHandle> handle_;
  std::set<std::int64_t> marked_;
};

}  // namespace

namespace {

// Adds what the drainer counted since `last` to the node's totals (on the loop
// thread, the drainer's only reader).
void publish(const kafka::DrainerStats& now, kafka::DrainerStats& last, ProducerCounters& to) {
  to.produced += now.produced - last.produced;
  to.delivered += now.delivered - last.delivered;
  to.dead_lettered += now.dead_lettered - last.dead_lettered;
  to.retried += now.retried - last.retried;
  to.backoffs += now.backoffs - last.backoffs;
  last = now;
}

// The producer's loop: pump the drainer; on stop, give in-flight records a
// few seconds to be acknowledged so their rows are deleted now rather than
// sent again after a restart.
Result<Loop> producer_loop(std::shared_ptr<storage::WriterHandle> writer,
                           const kafka::KafkaConfig& config, Clock& clock,
                           std::shared_ptr<ProducerCounters> counters,
                           std::shared_ptr<const FaultSwitch> faults) {
  struct Parts {
    explicit Parts(std::shared_ptr<storage::WriterHandle> w) : source(std::move(w)) {}
    WriterOutboxSource source;
    std::unique_ptr<kafka::Producer> producer;
    std::unique_ptr<kafka::FaultInjectingSink> faulty;  // [chaos] only
    std::unique_ptr<kafka::OutboxDrainer> drainer;
    std::atomic<std::uint64_t> delivered{0}, dead_lettered{0}, in_flight{0};
    std::atomic<bool> caught_up{false};
    kafka::DrainerStats published;  // loop thread only
  };
  auto p = std::make_shared<Parts>(std::move(writer));
  auto producer = kafka::Producer::create(config);
  if (!producer.ok()) return producer.take_error();
  p->producer = std::move(producer.value());
  if (faults) p->faulty = std::make_unique<kafka::FaultInjectingSink>(*p->producer, std::move(faults));
  kafka::RecordSink& sink = p->faulty ? static_cast<kafka::RecordSink&>(*p->faulty) : *p->producer;
  p->drainer = std::make_unique<kafka::OutboxDrainer>(p->source, sink, clock, kafka::DrainerOptions::from(config));
  spdlog::info("kafka event=producer_started bootstrap={} topic={}", config.bootstrap_servers, config.default_topic);
  Loop loop;
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
// for the config cache (ConfigCommands), which is why it has a thread.
Result<Loop> commands_loop(std::shared_ptr<storage::WriterHandle> writer, const kafka::KafkaConfig& config,
                           Runtime& runtime, const Clock& clock, std::shared_ptr<CommandCounters> counters) {
  struct Parts {
    Parts(Runtime& rt, std::shared_ptr<storage::WriterHandle> w) : handler(rt), dead_letters(std::move(w)) {}
    ConfigCommands handler;
    StoreDeadLetters dead_letters;
    std::unique_ptr<kafka::CommandConsumer> consumer;
    kafka::CommandStats published;  // loop thread only
  };
  auto p = std::make_shared<Parts>(runtime, std::move(writer));
  auto consumer = kafka::CommandConsumer::create(config, p->handler, p->dead_letters, clock);
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

ChildSpec kafka_pool_child(std::shared_ptr<storage::WriterHandle> writer, kafka::KafkaConfig kafka,
                           Runtime& runtime, std::shared_ptr<ProducerCounters> counters,
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
  ChildFactory commands = [writer, kafka, &runtime, command_counters,
                           heartbeats](const ChildStart&) -> Result<std::shared_ptr<Behaviour>> {
    return std::shared_ptr<Behaviour>(std::make_shared<LoopProcess>(
        [writer, kafka, &runtime, command_counters](Process& self) {
          return commands_loop(writer, kafka, runtime, self.clock(), command_counters);
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

}  // namespace edgepoll::appliance
