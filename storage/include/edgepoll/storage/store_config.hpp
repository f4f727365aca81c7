#pragma once
// The [storage] section of edgepoll.toml: where the store lives, how durable a
// commit is, how the writer batches, and the disk budget of the outbox.
#include <cstddef>
#include <cstdint>
#include <string>

#include <toml++/toml.h>

#include "edgepoll/supervision/result.hpp"

namespace edgepoll::storage {

enum class Synchronous {
  // WAL + NORMAL: a committed transaction survives a crash of the process
  // (kill -9, segfault); a power loss may lose the last few commits.
  normal,
  // WAL + FULL: the WAL is fsynced on every commit, so commits also survive a
  // power loss. Use on sites without a UPS; costs one fsync per batch.
  full,
};

struct StoreConfig {
  std::string path = "/var/lib/edgepoll/edgepoll.db";
  Synchronous synchronous = Synchronous::normal;
  std::size_t batch_max_rows = 1000;      // a batch commits when it holds this many
  std::uint32_t batch_max_delay_ms = 5;   // ... or this long after its first reading
  std::size_t queue_capacity = 100000;    // readings waiting in memory, at most
  // Retention (0 = no limit): when the database uses more than max_outbox_bytes
  // or holds readings older than max_outbox_age_s, the oldest are dropped.
  std::uint64_t max_outbox_bytes = 1ull << 30;
  std::uint64_t max_outbox_age_s = 7ull * 24 * 3600;
  // Hard ceiling on the database file (PRAGMA max_page_count); 0 = none. Writes
  // past it fail like a full disk, which is also how tests simulate one.
  std::uint64_t max_db_bytes = 0;
  std::uint32_t busy_timeout_ms = 2000;
  std::size_t readers = 2;  // read-only connections serving /ready, /metrics and the CLI
  // The prerequisites refuse to boot when the state directory's filesystem has
  // less free space than this (0 = no floor).
  std::uint64_t min_free_bytes = 64ull << 20;

  // Parses the [storage] table; unknown keys are refused by name.
  static Result<StoreConfig> parse(const toml::table& table);
};

}  // namespace edgepoll::storage
