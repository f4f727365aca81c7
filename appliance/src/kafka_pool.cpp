#include "edgepoll/appliance/kafka_pool.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <future>
#include <set>

#include "edgepoll/kafka/outbox_drainer.hpp"
#include "edgepoll/kafka/producer.hpp"
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

struct OutboxDrainThread::Parts {
  explicit Parts(std::shared_ptr<storage::WriterHandle> writer) : source(std::move(writer)) {}
  std::unique_ptr<kafka::Producer> producer;
  std::unique_ptr<kafka::OutboxDrainer> drainer;
  WriterOutboxSource source;  // declared last: released (marks freed) first
};

OutboxDrainThread::OutboxDrainThread(std::shared_ptr<storage::WriterHandle> writer, kafka::KafkaConfig kafka,
                                     Clock& clock)
    : writer_(std::move(writer)), kafka_(std::move(kafka)), clock_(clock) {}

OutboxDrainThread::~OutboxDrainThread() { stop(); }

Status OutboxDrainThread::start() {
  parts_ = std::make_unique<Parts>(writer_);
  auto producer = kafka::Producer::create(kafka_);
  if (!producer.ok()) return producer.take_error();
  parts_->producer = std::move(producer.value());
  parts_->drainer = std::make_unique<kafka::OutboxDrainer>(parts_->source, *parts_->producer, clock_,
                                                           kafka::DrainerOptions::from(kafka_));
  thread_ = std::thread([this] { loop(); });
  return ok_status();
}

void OutboxDrainThread::loop() {
  auto& drainer = *parts_->drainer;
  for (;;) {
    auto delay = drainer.pump();
    counters_->delivered = drainer.stats().delivered;
    counters_->dead_lettered = drainer.stats().dead_lettered;
    counters_->in_flight = drainer.in_flight();
    counters_->caught_up = drainer.caught_up();
    std::optional<Error> failed;
    if (!delay.ok()) failed = delay.error();
    if (auto fatal = parts_->producer->fatal_error()) failed = *fatal;
    std::unique_lock lock(mutex_);
    if (failed) {
      failure_ = failed;
      return;
    }
    if (stopping_) break;
    wake_.wait_for(lock, std::min<Duration>(delay.value(), std::chrono::milliseconds(100)));
  }
  // Stopping: let acknowledgements of what is in flight arrive, so that those
  // rows are deleted now rather than sent again after the restart.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (drainer.in_flight() > 0 && std::chrono::steady_clock::now() < deadline) {
    (void)parts_->producer->flush(std::chrono::milliseconds(100));
    if (!drainer.pump().ok()) break;
  }
}

void OutboxDrainThread::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::optional<Error> OutboxDrainThread::failure() const {
  std::lock_guard lock(mutex_);
  return failure_;
}

namespace {

class KafkaProducerProcess final : public Behaviour {
 public:
  KafkaProducerProcess(std::shared_ptr<storage::WriterHandle> writer, kafka::KafkaConfig kafka)
      : writer_(std::move(writer)), kafka_(std::move(kafka)) {}
  InitResult init(Process& self) override {
    drain_ = std::make_unique<OutboxDrainThread>(writer_, kafka_, self.clock());
    if (auto started = drain_->start(); !started.ok()) return InitResult::error(started.error());
    spdlog::info("kafka event=producer_started bootstrap={} topic={}", kafka_.bootstrap_servers, kafka_.default_topic);
    self.send_after(std::chrono::milliseconds(500), Check{});
    return InitResult::ok();
  }
  void handle(Process& self, Message& m) override {
    if (!std::any_cast<Check>(&m)) return unexpected(self, m);
    if (auto failed = drain_->failure()) {
      return self.exit(ExitReason::error("outbox drain stopped: " + failed->describe()));
    }
    self.send_after(std::chrono::milliseconds(500), Check{});
  }
  void terminate(Process&, const ExitReason&) override {
    if (drain_) drain_->stop();
  }
  void describe(nlohmann::json& out) const override {
    if (!drain_) return;
    const auto& c = drain_->counters();
    out["delivered"] = c.delivered.load();
    out["dead_lettered"] = c.dead_lettered.load();
    out["in_flight"] = c.in_flight.load();
    out["caught_up"] = c.caught_up.load();
  }

 private:
  struct Check {};
  std::shared_ptr<storage::WriterHandle> writer_;
  kafka::KafkaConfig kafka_;
  std::unique_ptr<OutboxDrainThread> drain_;
};

}  // namespace

ChildSpec kafka_pool_child(std::shared_ptr<storage::WriterHandle> writer, kafka::KafkaConfig kafka) {
  ChildFactory producer = [writer, kafka](const ChildStart&) -> Result<std::shared_ptr<Behaviour>> {
    return std::shared_ptr<Behaviour>(std::make_shared<KafkaProducerProcess>(writer, kafka));
  };
  // The drain thread flushes in-flight records on stop (up to 5 s).
  return supervisor_child("kafka_pool",
                          SupervisorSpec{{Strategy::one_for_one, 5, 60},
                                         {worker_child("producer", producer, Restart::permanent,
                                                       Shutdown::timeout(std::chrono::seconds(15)))}});
}

}  // namespace edgepoll::appliance
