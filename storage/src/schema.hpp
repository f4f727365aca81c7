#pragma once
// Forward migrations: migrations()[i] takes a store from user_version i to i+1.
// Append only; never edit a migration that has shipped.
#include <vector>

namespace edgepoll::storage {

inline const std::vector<const char*>& migrations() {
  static const std::vector<const char*> all = {
      // 0 -> 1: outbox, device state, dead letters.
      // outbox.id is AUTOINCREMENT so that an id handed to the producer is never
      // reused by a later reading: a late delivery report cannot delete the wrong row.
      // No UNIQUE(device_id, seq) index: sequences are unique by construction
      // (assigned from device_state.last_seq in the inserting transaction, see
      // Outbox::append), and the index would cost ~20% of the bytes per reading
      // and of ingest speed. The kill -9 and property tests check uniqueness.
      R"sql(
CREATE TABLE outbox(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  device_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  ts_ms INTEGER NOT NULL,
  payload BLOB NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0);
CREATE TABLE device_state(
  device_id TEXT PRIMARY KEY,
  last_seq INTEGER NOT NULL DEFAULT 0,
  last_good_poll_ms INTEGER,
  consecutive_failures INTEGER NOT NULL DEFAULT 0,
  quarantine_until_ms INTEGER) WITHOUT ROWID;
CREATE TABLE dead_letters(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  source TEXT NOT NULL CHECK(source IN ('reading', 'command')),
  record_key TEXT NOT NULL,
  record BLOB NOT NULL,
  reason TEXT NOT NULL,
  first_seen_ms INTEGER NOT NULL,
  last_seen_ms INTEGER NOT NULL,
  count INTEGER NOT NULL DEFAULT 1,
  UNIQUE(source, record_key));
)sql",
      // 1 -> 2: a quarantine survives a restart of the daemon with its attempt
      // (where the config manager's backoff resumes) and its reason; until is
      // quarantine_until_ms (wall clock), NULL when the device is not quarantined.
      R"sql(
ALTER TABLE device_state ADD COLUMN quarantine_attempt INTEGER NOT NULL DEFAULT 0;
ALTER TABLE device_state ADD COLUMN quarantine_reason TEXT;
)sql",
  };
  return all;
}

}  // namespace edgepoll::storage
