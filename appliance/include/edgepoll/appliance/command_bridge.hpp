#pragma once
// Commands from Kafka into the tree. The consumer is a plain client that asks a
// CommandHandler to apply each command and wants the outcome before it commits
// the offset. Config changes go to the config cache (its overlay, on disk
// before the devices see them), poll_now to the config manager; each answers
// through its mailbox. The bridge waits for that answer, so it runs on the
// consumer's own thread, never on the runtime.
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
// (command.invalid) when an add/replace config does not validate.
Result<pollers::DeviceCommand> to_device_command(const kafka::Command& command);

// Where the config manager runs in the tree rooted at the registry's `root_name`.
supervision::Pid config_manager_pid(supervision::Runtime& runtime, const std::string& root_name = "root");

// Sends a command where it applies: a config change to the config cache's
// overlay (OverlayChange), poll_now to the config manager; `reply` gets the
// outcome. Errors (command.unavailable, retryable) when the process is not
// running, and then `reply` is not called. The Kafka consumer and the control
// socket's dlq replay share it: one path applies both.
Status send_command(supervision::Runtime& runtime, const std::string& root_name, const kafka::Command& command,
                    std::function<void(Status)> reply);

class ConfigCommands final : public kafka::CommandHandler {
 public:
  ConfigCommands(supervision::Runtime& runtime, std::string root_name = "root");
  Status apply(const kafka::Command& command) override;

 private:
  supervision::Runtime& runtime_;
  std::string root_name_;
};

}  // namespace edgepoll::appliance
