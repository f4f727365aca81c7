#pragma once
// Commands from the commands topic, as JSON objects:
//   {"id": "c-1", "node": "site-4", "type": "set_poll_interval", "device": "meter-7", "interval_ms": 5000}
//   {"node": "*", "type": "enable_device" | "disable_device" | "remove_device" | "poll_now",
//    "device": "meter-7"}
//   {"node": "site-4", "type": "add_device" | "replace_device", "device": "meter-7", "config": {...}}
// "node" is required: the id of the appliance the command is for ([node] id),
// or "*" for every appliance. Every appliance reads every command (one consumer
// group per node), so a command without an address would be applied by all of
// them: it is refused as invalid rather than guessed. "id" is optional (the
// consumer names a command by topic/partition/offset otherwise). Unknown fields
// are refused: a typo must not be silently ignored.
#include <chrono>
#include <string>
#include <string_view>

#include "edgepoll/supervision/result.hpp"

namespace edgepoll::kafka {

enum class CommandType {
  set_poll_interval,
  enable_device,
  disable_device,
  add_device,
  remove_device,
  replace_device,
  poll_now,
};

std::string_view to_string(CommandType type);

inline constexpr std::string_view kEveryNode = "*";

struct Command {
  std::string id;
  std::string node;  // a node id, or kEveryNode
  CommandType type = CommandType::poll_now;
  std::string device;
  std::chrono::milliseconds interval{0};  // set_poll_interval
  std::string device_config;              // add/replace_device: the "config" object as JSON
  std::string source;                     // set by the consumer: "<topic>/<partition>/<offset>"

  // Parses and validates one message; errors (code "command.invalid") name the
  // field and what was expected.
  static Result<Command> parse(std::string_view json);
  // The "id" of a message even when it fails validation ("" when it has none),
  // so that a dead letter carries the sender's name for it.
  static std::string id_of(std::string_view json);

  // Is this command for the node `node_id`?
  bool addressed_to(std::string_view node_id) const { return node == kEveryNode || node == node_id; }
};

// Limits of set_poll_interval.
inline constexpr std::chrono::milliseconds kMinPollInterval{100};
inline constexpr std::chrono::milliseconds kMaxPollInterval{24 * 3600 * 1000};

// The config manager applies commands (pollers issue). An error is a poison
// message: code "command.unknown_device" when the device does not exist, any
// other code when applying failed.
class CommandHandler {
 public:
  virtual ~CommandHandler() = default;
  virtual Status apply(const Command& command) = 0;
};

// A command that can never be applied, as the dead_letters table keeps it.
struct CommandDeadLetter {
  std::string key;     // the command id, or "<topic>/<partition>/<offset>"
  std::string record;  // the original bytes
  Error error;
  std::string topic;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  std::int64_t time_ms = 0;  // wall clock when it was dead-lettered
};

// Where dead-lettered commands are kept (the storage dead_letters table).
class DeadLetterSink {
 public:
  virtual ~DeadLetterSink() = default;
  virtual Status record(const CommandDeadLetter& letter) = 0;
};

}  // namespace edgepoll::kafka
