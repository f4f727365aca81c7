#pragma once
// kafka_pool (one_for_one, under deps): the producer process that drains the
// SQLite outbox into Kafka. The store has one owner, the storage writer, so the
// drainer works through the writer's operations (fetch, mark in flight, delete
// on acknowledgement, dead-letter); those answer on the writer's thread, and
// waiting for them is allowed only off the runtime, so the process owns one
// drain thread of its own. The broker being unreachable is not a crash:
// readings stay in the outbox and the drainer backs off. A storage error or a
// fatal producer error ends the thread, and the process crashes so that its
// supervisor acts.
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "edgepoll/kafka/kafka_config.hpp"
#include "edgepoll/storage/storage_pool.hpp"
#include "edgepoll/supervision/child_spec.hpp"

namespace edgepoll::appliance {

struct DrainCounters {
  std::atomic<std::uint64_t> delivered{0};
  std::atomic<std::uint64_t> dead_lettered{0};
  std::atomic<std::uint64_t> in_flight{0};
  std::atomic<bool> caught_up{false};
};

class OutboxDrainThread {
 public:
  OutboxDrainThread(std::shared_ptr<storage::WriterHandle> writer, kafka::KafkaConfig kafka,
                    supervision::Clock& clock);
  ~OutboxDrainThread();
  // Opens the store and the producer (errors name what failed), then starts.
  Status start();
  // Gives in-flight records a few seconds to be acknowledged, then joins.
  void stop();
  // Why the thread ended on its own, if it did.
  std::optional<Error> failure() const;
  const DrainCounters& counters() const { return *counters_; }

 private:
  void loop();
  struct Parts;
  std::shared_ptr<storage::WriterHandle> writer_;
  kafka::KafkaConfig kafka_;
  supervision::Clock& clock_;
  std::unique_ptr<Parts> parts_;
  std::shared_ptr<DrainCounters> counters_ = std::make_shared<DrainCounters>();
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::optional<Error> failure_;
  std::thread thread_;
};

supervision::ChildSpec kafka_pool_child(std::shared_ptr<storage::WriterHandle> writer, kafka::KafkaConfig kafka);

}  // namespace edgepoll::appliance
