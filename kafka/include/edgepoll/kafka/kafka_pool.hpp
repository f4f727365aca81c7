#pragma once
// kafka_pool (one_for_one, under deps):
//   producer  drains the SQLite outbox into Kafka
//   commands  consumes the commands topic; applies commands via the config cache
// Both are plain librdkafka clients driven by a loop on a thread of their own:
// the producer works through the storage writer's operations and the consumer
// waits for the config cache's answer before committing an offset, and
// waiting is allowed only off the runtime. The broker being unreachable is not
// a crash (readings stay in the outbox); a storage error or a fatal client
// error ends the loop, and its process crashes so that its supervisor acts.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

#include "edgepoll/kafka/command_consumer.hpp"
#include "edgepoll/kafka/kafka_config.hpp"
#include "edgepoll/storage/storage_pool.hpp"
#include "edgepoll/supervision/child_spec.hpp"
#include "edgepoll/supervision/fault_switch.hpp"
#include "edgepoll/supervision/heartbeats.hpp"

namespace edgepoll::kafka {

// The producer's drainer counts in plain fields on its loop thread and starts
// from zero in every producer process; the loop adds what changed after each
// pump here, so these totals are safe to read from any thread and survive
// producer restarts (/metrics reads them).
struct ProducerCounters {
  std::atomic<std::uint64_t> produced{0};
  std::atomic<std::uint64_t> delivered{0};  // acknowledged by Kafka and deleted from the outbox
  std::atomic<std::uint64_t> dead_lettered{0};
  std::atomic<std::uint64_t> retried{0};
  std::atomic<std::uint64_t> backoffs{0};
  std::atomic<std::uint64_t> probes{0};
  std::atomic<std::uint64_t> in_flight{0};  // right now: produced, no delivery report yet
};

// The command consumer's totals, kept the same way (they survive its restarts).
struct CommandCounters {
  std::atomic<std::uint64_t> applied{0};
  std::atomic<std::uint64_t> dead_lettered{0};
  std::atomic<std::uint64_t> ignored_other_node{0};
  std::atomic<std::uint64_t> retries{0};
};

// Makes what applies a command (the appliance's, through its config manager),
// once per commands process; called on the process's start, off the loop thread.
using CommandHandlerFactory = std::function<std::unique_ptr<CommandHandler>()>;

// `kafka.node_id` names this appliance: its commands group and the commands it applies.
// With `faults` (only under [chaos] enabled) the producer's records pass a
// FaultInjectingSink: chaos.fail kafka.broker_error fails them there.
supervision::ChildSpec kafka_pool_child(std::shared_ptr<storage::WriterHandle> writer,
                                        KafkaConfig kafka, CommandHandlerFactory make_handler,
                                        std::shared_ptr<ProducerCounters> counters,
                                        std::shared_ptr<CommandCounters> command_counters,
                                        std::shared_ptr<supervision::Heartbeats> heartbeats,
                                        std::shared_ptr<const supervision::FaultSwitch> faults = nullptr);

}  // namespace edgepoll::kafka
