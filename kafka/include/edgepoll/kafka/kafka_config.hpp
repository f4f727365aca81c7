#pragma once
// The [kafka] section of edgepoll.toml. Security settings (SASL, TLS) pass straight
// through to librdkafka; secrets come from files named in [kafka.secret_files] and
// are kept out of every log line and of describe().
#include <chrono>
#include <cstddef>
#include <map>
#include <string>

#include <toml++/toml.h>

#include "edgepoll/supervision/result.hpp"

namespace edgepoll::kafka {

struct KafkaConfig {
  std::string bootstrap_servers = "127.0.0.1:9092";
  std::string default_topic = "edgepoll.readings";
  std::map<std::string, std::string> topics;  // device group -> topic
  std::string compression = "lz4";            // none | gzip | snappy | lz4 | zstd
  std::size_t max_in_flight = 10000;          // outbox records produced, not yet acked
  std::size_t fetch_batch = 1000;             // outbox rows read per fetch
  double drain_rate = 50000;                  // records/s at most; 0 = unpaced
  std::chrono::milliseconds retry_base{100};  // full-jitter backoff of retriable errors
  std::chrono::milliseconds retry_cap{30000};
  std::chrono::milliseconds message_timeout{30000};  // librdkafka message.timeout.ms
  std::string commands_topic = "edgepoll.commands";
  std::string dead_letter_topic = "edgepoll.dead_letters";
  // Commands are consumed with the group "<group_id>.<node_id>": one group per
  // appliance, so every appliance reads every command and applies the ones
  // addressed to it (a shared group would split the commands between nodes).
  std::string group_id = "edgepoll";
  // This appliance's [node] id; set by the daemon from [node], not a [kafka] key.
  std::string node_id;
  // A command whose failure is retryable (the config manager is restarting, no
  // answer in time) is tried this many times in all, with full-jitter backoff,
  // before it is dead-lettered with every attempt's error.
  unsigned command_attempts = 5;
  std::chrono::milliseconds command_retry_base{500};
  std::chrono::milliseconds command_retry_cap{10000};
  // librdkafka properties set verbatim (security.protocol, sasl.*, ssl.*, ...).
  std::map<std::string, std::string> security;
  // librdkafka tuning properties set verbatim (e.g. reconnect.backoff.max.ms).
  std::map<std::string, std::string> properties;
  // librdkafka property -> value read from a file (e.g. sasl.password). Filled by
  // load_secrets(); never printed.
  std::map<std::string, std::string> secret_files;
  std::map<std::string, std::string> secrets;

  // Parses the [kafka] table; unknown keys are refused by name. Reads the secret
  // files, so a missing or unreadable one is an error naming the file.
  static Result<KafkaConfig> parse(const toml::table& table);

  // The command consumer's group: "<group_id>.<node_id>" ("<group_id>" without a node id).
  std::string commands_group() const;

  // The topic for a device group ("" or an unknown group -> default_topic).
  const std::string& topic_for_group(const std::string& group) const;

  // Every librdkafka property this config sets, secrets included: for building a
  // client only, never for printing.
  std::map<std::string, std::string> client_properties() const;

  // One line for logs: secrets appear as "<secret from FILE>".
  std::string describe() const;
};

}  // namespace edgepoll::kafka
