#pragma once
// The records the store keeps: readings on their way to Kafka (the outbox),
// per-device state, and dead letters (records that can never be delivered).
#include <cstdint>
#include <optional>
#include <string>

namespace edgepoll::storage {

// One reading as the device FSM emits it; the store assigns its sequence.
struct Reading {
  std::string device_id;
  std::int64_t timestamp_ms = 0;  // wall clock of the poll (ms since the epoch)
  std::string payload;            // encoded reading, opaque to the store
};

// The stable identity of a reading: device id + per-device sequence that survives
// restarts and never repeats (assigned in the transaction that stores it).
struct ReadingId {
  std::string device_id;
  std::int64_t seq = 0;
  friend bool operator==(const ReadingId&, const ReadingId&) = default;
};

// Told to the submitter once the reading's transaction has committed.
struct Ack {
  std::int64_t outbox_id = 0;  // handle for the producer; never reused
  ReadingId id;
};

// A row of the outbox as the Kafka producer sees it.
struct OutboxRecord {
  std::int64_t outbox_id = 0;
  ReadingId id;
  std::int64_t timestamp_ms = 0;
  std::string payload;
};

struct DeviceState {
  std::string device_id;
  std::int64_t last_seq = 0;
  std::optional<std::int64_t> last_good_poll_ms;
  std::int64_t consecutive_failures = 0;
  std::optional<std::int64_t> quarantine_until_ms;  // set while quarantined
  std::int64_t quarantine_attempt = 0;              // of the latest quarantine
  std::optional<std::string> quarantine_reason;
};

// One quarantine as the config manager records it.
struct Quarantine {
  std::string device_id;
  std::int64_t attempt = 0;   // 1 for the first quarantine of an episode
  std::int64_t until_ms = 0;  // wall clock
  std::string reason;
};

enum class DeadLetterSource { reading, command };

// As the dead_letters table spells it ("reading" / "command").
inline const char* to_string(DeadLetterSource s) { return s == DeadLetterSource::command ? "command" : "reading"; }

struct DeadLetter {
  std::int64_t id = 0;
  DeadLetterSource source = DeadLetterSource::reading;
  std::string record_key;  // "<device>:<seq>" for a reading, the command's id
  std::string record;      // the original bytes
  std::string reason;
  std::int64_t first_seen_ms = 0;
  std::int64_t last_seen_ms = 0;
  std::int64_t count = 0;
};

}  // namespace edgepoll::storage
