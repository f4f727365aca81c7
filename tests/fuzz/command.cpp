// A message from the Kafka commands topic (anyone who can write to the topic
// writes these bytes) through Command::parse and Command::id_of, as the
// command consumer takes each record. Beyond not crashing: a command that
// parsed is addressed (node is required) and names its device, and id_of
// finds the id parse found.
#include "edgepoll/kafka/command.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace edgepoll;
  const auto record = fuzz::text(data, size);
  const std::string id = kafka::Command::id_of(record);
  auto command = kafka::Command::parse(record);
  if (!command) {
    fuzz::require_readable(command.error());
    return 0;
  }
  fuzz::require(!command->node.empty(), "a parsed command is addressed");
  fuzz::require(!command->device.empty(), "a parsed command names its device");
  fuzz::require(command->id == id, "id_of agrees with parse");
  if (command->type == kafka::CommandType::set_poll_interval)
    fuzz::require(command->interval >= kafka::kMinPollInterval &&
                      command->interval <= kafka::kMaxPollInterval,
                  "a poll interval is within its limits");
  return 0;
}
