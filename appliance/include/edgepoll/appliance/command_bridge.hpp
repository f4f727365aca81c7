#pragma once
// Commands from Kafka into the tree. The consumer is a plain client that asks a
// CommandHandler to apply each command and wants the outcome before it commits
// the offset; the config manager answers through its mailbox. The bridge waits
// for that answer, so it runs on the consumer's own thread, never on the runtime.
#include <memory>

#include <nlohmann/json_fwd.hpp>
#include <toml++/toml.h>

#include "edgepoll/kafka/command_consumer.hpp"
#include "edgepoll/pollers/config_manager.hpp"
#include "edgepoll/storage/storage_pool.hpp"
#include "edgepoll/supervision/runtime.hpp"

namespace edgepoll::appliance {

// A device config sent as JSON in a command, as the TOML table DeviceConfig parses.
Result<toml::table> json_to_toml(const nlohmann::json& object);

// A parsed command as the config manager's message (reply left empty); errors
// (command.invalid) when an add/replace config does not validate. The Kafka
// consumer and the control socket's dlq replay share it: one path applies both.
Result<pollers::DeviceCommand> to_device_command(const kafka::Command& command);

// Where the config manager runs in the tree rooted at the registry's `root_name`.
supervision::Pid config_manager_pid(supervision::Runtime& runtime, const std::string& root_name = "root");

class ConfigManagerCommands final : public kafka::CommandHandler {
 public:
  ConfigManagerCommands(supervision::Runtime& runtime, std::string root_name = "root");
  Status apply(const kafka::Command& command) override;

 private:
  supervision::Runtime& runtime_;
  std::string root_name_;
};

}  // namespace edgepoll::appliance
