#pragma once
// What an operator does with the dead_letters table: find one by its key, list
// them, put a reading back into the outbox, drop one. The writer runs the
// changing ones on its thread (the store has one writer); the Reader shares
// the queries.
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "edgepoll/storage/reading.hpp"
#include "edgepoll/supervision/result.hpp"
#include "sqlite.hpp"

namespace edgepoll::storage {

// `key` is the dead letter's id (all digits) or its record key ("<device>:<seq>"
// for a reading, the command's id); a record key both sources use is refused
// with dlq.ambiguous_key (the id names it).
Result<std::optional<DeadLetter>> find_dead_letter(const Connection& c, std::string_view key);
Result<std::vector<DeadLetter>> list_dead_letters(const Connection& c, std::size_t limit, std::int64_t after_id);
// Moves a dead-lettered reading back into the outbox with its device and
// sequence (its identity: consumers see the reading they never got). The dead
// letter keeps no poll time, so the reading carries the time it was first
// dead-lettered. Errors: storage.not_found, dlq.not_a_reading, dlq.bad_key.
Result<DeadLetter> replay_dead_reading(Connection& c, std::string_view key);
// Deletes one dead letter and returns what it was (the caller logs it).
Result<DeadLetter> drop_dead_letter(Connection& c, std::string_view key);

}  // namespace edgepoll::storage
