#pragma once
// The plain command consumer: a consumer group on the commands topic. Each
// message is parsed, validated and handed to the CommandHandler; one that does
// not parse, fails validation, names an unknown device or fails to apply is a
// poison message: it goes to the dead-letter topic (headers: error,
// source-topic, source-partition, source-offset, time) and to the
// DeadLetterSink, and its offset is committed, so it never blocks the ones
// behind it. An offset is committed only after its command was applied or
// dead-lettered; a crash before that redelivers the command (at least once).
//
// The sink is the durable record of a poison message: the dead-letter topic is
// best effort (its producer retries while it lives), the offset is committed
// once the sink has it.
//
// Like the producer it owns no thread: poll() never blocks (consume timeout 0)
// and is called from a timer on the owner's strand.
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "edgepoll/kafka/command.hpp"
#include "edgepoll/kafka/kafka_config.hpp"

namespace edgepoll::kafka {

struct CommandStats {
  std::uint64_t applied = 0;
  std::uint64_t dead_lettered = 0;
};

class CommandConsumer {
 public:
  static Result<std::unique_ptr<CommandConsumer>> create(
      const KafkaConfig& config, CommandHandler& handler, DeadLetterSink& sink,
      const std::map<std::string, std::string>& overrides = {});
  ~CommandConsumer();

  // Handles up to `max` waiting messages. An error means a dead letter could
  // not be recorded: the offset stays uncommitted and the owner should crash.
  Result<std::size_t> poll(std::size_t max = 100);
  const CommandStats& stats() const;
  // Leaves the group (commits are already done); for an orderly stop.
  void close();

 private:
  struct Impl;
  explicit CommandConsumer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgepoll::kafka
