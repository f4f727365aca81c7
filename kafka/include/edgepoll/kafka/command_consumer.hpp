#pragma once
// The plain command consumer: the group "<group_id>.<node id>" on the commands
// topic (one group per appliance: each reads every command). Each message is
// parsed and validated; a command addressed to another node is skipped and
// counted (not dead-lettered: it is someone else's); one for this node (or
// "*") is handed to the CommandHandler.
//   - applied: done.
//   - a retryable failure (command.unavailable, command.timeout: the config
//     manager is restarting or slow): tried again after full-jitter backoff, up
//     to `command_attempts` tries in all; the commands behind it wait (order
//     within the partition is kept).
//   - anything else (does not parse, invalid, unknown device, failed to apply,
//     or retries exhausted) is a poison message: it goes to the DeadLetterSink
//     and the dead-letter topic (headers: error with every attempt's error,
//     error-code, attempts, source-topic, source-partition, source-offset,
//     time), so it never blocks the ones behind it.
// An offset is committed only after its command was applied, skipped or
// dead-lettered; a crash before that redelivers the command (at least once).
//
// The sink is the durable record of a poison message. The copy on the
// dead-letter topic is waited for (up to `message_timeout`) before the offset
// is committed, so a dead letter counted here is on the topic too unless Kafka
// refused it (then it is logged and the sink still has it).
//
// It owns no thread. poll() does not wait for new messages (consume timeout 0);
// it blocks only to confirm a dead letter's delivery, so its owner runs it off
// the runtime (kafka_pool's commands loop has a thread of its own).
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <optional>

#include "edgepoll/kafka/command.hpp"
#include "edgepoll/kafka/kafka_config.hpp"
#include "edgepoll/supervision/clock.hpp"

namespace edgepoll::kafka {

struct CommandStats {
  std::uint64_t applied = 0;
  std::uint64_t dead_lettered = 0;
  std::uint64_t ignored_other_node = 0;  // addressed to another appliance
  std::uint64_t retries = 0;             // retryable failures tried again
};

class CommandConsumer {
 public:
  // `clock` times the retries (the owner's; the process clock in the daemon).
  static Result<std::unique_ptr<CommandConsumer>> create(
      const KafkaConfig& config, CommandHandler& handler, DeadLetterSink& sink, const supervision::Clock& clock,
      const std::map<std::string, std::string>& overrides = {});
  ~CommandConsumer();

  // Handles up to `max` waiting messages (none while a retry waits for its
  // time). An error means a dead letter could not be recorded: the offset
  // stays uncommitted and the owner should crash.
  Result<std::size_t> poll(std::size_t max = 100);
  // When the command waiting for a retry is due (nullopt: none waits).
  std::optional<supervision::TimePoint> retry_due() const;
  const CommandStats& stats() const;
  // Leaves the group (commits are already done); for an orderly stop.
  void close();

 private:
  struct Impl;
  explicit CommandConsumer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgepoll::kafka
