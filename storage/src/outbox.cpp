#include "edgepoll/storage/outbox.hpp"

#include <algorithm>
#include <limits>
#include <map>

#include <fmt/format.h>

#include "sqlite.hpp"

namespace edgepoll::storage {

// Prepared once per writer connection: the hot path binds and steps only.
struct Outbox::Statements {
  Statement insert, upsert_seq, last_seq, after, delete_range, delete_one, get_one,
      dead_letter, device_health, quarantine, release, quarantined;
};

namespace {

Result<Statement> prep(const Connection& c, const char* sql) { return c.prepare(sql); }

// Sorted, distinct ids as [first, last] runs of consecutive ids: a batch the
// producer fetched is usually one run, so it costs one statement, not one per row.
std::vector<std::pair<std::int64_t, std::int64_t>> id_ranges(std::span<const std::int64_t> ids) {
  std::vector<std::int64_t> sorted(ids.begin(), ids.end());
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::vector<std::pair<std::int64_t, std::int64_t>> runs;
  for (auto id : sorted) {
    if (!runs.empty() && runs.back().second + 1 == id) runs.back().second = id;
    else runs.emplace_back(id, id);
  }
  return runs;
}

std::string reading_key(const std::string& device_id, std::int64_t seq) {
  return fmt::format("{}:{}", device_id, seq);
}

}  // namespace

Outbox::Outbox(Database& db) : db_(db) {}
Outbox::~Outbox() = default;

#define EDGEPOLL_PREP(field, sql)                              \
  auto field = prep(c, sql);                                   \
  if (!field) return field.take_error();

Result<std::int64_t> Outbox::last_seq(const std::string& device_id) {
  if (auto it = committed_seq_.find(device_id); it != committed_seq_.end()) return it->second;
  auto& q = st_->last_seq.reset().bind_text(1, device_id);
  auto row = q.step("reading the last sequence of device " + device_id);
  if (!row) return row.take_error();
  const std::int64_t last = *row ? q.int64(0) : 0;
  q.reset();
  return last;
}

Status Outbox::prepared() {
  if (st_) return ok_status();
  const Connection& c = db_.connection();
  EDGEPOLL_PREP(insert, "INSERT INTO outbox(device_id, seq, ts_ms, payload) VALUES(?1,?2,?3,?4)")
  EDGEPOLL_PREP(upsert_seq,
                "INSERT INTO device_state(device_id, last_seq) VALUES(?1, ?2) "
                "ON CONFLICT(device_id) DO UPDATE SET last_seq = excluded.last_seq")
  // device_state is authoritative: it advances in the same transaction as the rows.
  EDGEPOLL_PREP(last, "SELECT last_seq FROM device_state WHERE device_id = ?1")
  // A rowid range: SQLite seeks to ?1 and reads only the rows taken.
  EDGEPOLL_PREP(after, "SELECT id, device_id, seq, ts_ms, payload FROM outbox WHERE id > ?1 ORDER BY id LIMIT ?2")
  EDGEPOLL_PREP(del_range, "DELETE FROM outbox WHERE id BETWEEN ?1 AND ?2")
  EDGEPOLL_PREP(del_one, "DELETE FROM outbox WHERE id = ?1")
  EDGEPOLL_PREP(get_one, "SELECT device_id, seq, ts_ms, payload FROM outbox WHERE id = ?1")
  EDGEPOLL_PREP(dead,
                "INSERT INTO dead_letters(source, record_key, record, reason, first_seen_ms, "
                "last_seen_ms, count) VALUES(?1, ?2, ?3, ?4, ?5, ?5, 1) "
                "ON CONFLICT(source, record_key) DO UPDATE SET reason = excluded.reason, "
                "last_seen_ms = excluded.last_seen_ms, count = count + 1")
  EDGEPOLL_PREP(health,
                "INSERT INTO device_state(device_id, last_good_poll_ms, consecutive_failures, "
                "quarantine_until_ms) VALUES(?1, ?2, ?3, ?4) ON CONFLICT(device_id) DO UPDATE SET "
                "last_good_poll_ms = coalesce(excluded.last_good_poll_ms, last_good_poll_ms), "
                "consecutive_failures = excluded.consecutive_failures, "
                "quarantine_until_ms = excluded.quarantine_until_ms")
  EDGEPOLL_PREP(quarantine,
                "INSERT INTO device_state(device_id, quarantine_attempt, quarantine_until_ms, "
                "quarantine_reason) VALUES(?1, ?2, ?3, ?4) ON CONFLICT(device_id) DO UPDATE SET "
                "quarantine_attempt = excluded.quarantine_attempt, "
                "quarantine_until_ms = excluded.quarantine_until_ms, "
                "quarantine_reason = excluded.quarantine_reason")
  EDGEPOLL_PREP(release,
                "UPDATE device_state SET quarantine_until_ms = NULL, quarantine_reason = NULL "
                "WHERE device_id = ?1")
  EDGEPOLL_PREP(quarantined,
                "SELECT device_id, quarantine_attempt, quarantine_until_ms, "
                "coalesce(quarantine_reason, '') FROM device_state "
                "WHERE quarantine_until_ms IS NOT NULL ORDER BY device_id")
  st_ = std::unique_ptr<Statements>(new Statements{
      std::move(*insert), std::move(*upsert_seq), std::move(*last), std::move(*after),
      std::move(*del_range), std::move(*del_one), std::move(*get_one),
      std::move(*dead), std::move(*health), std::move(*quarantine), std::move(*release),
      std::move(*quarantined)});
  return ok_status();
}
#undef EDGEPOLL_PREP

Result<std::vector<Ack>> Outbox::append(std::span<const Reading> batch) {
  if (auto p = prepared(); !p) return p.take_error();
  if (batch.empty()) return std::vector<Ack>{};
  Connection& c = db_.connection();
  std::vector<Ack> acks;
  acks.reserve(batch.size());
  std::unordered_map<std::string, std::int64_t> next;  // this transaction's sequences
  auto s = transaction(c, "storing a batch of readings", [&]() -> Status {
    for (const Reading& r : batch) {
      auto it = next.find(r.device_id);
      if (it == next.end()) {
        auto last = last_seq(r.device_id);
        if (!last) return last.take_error();
        it = next.emplace(r.device_id, *last).first;
      }
      const std::int64_t seq = ++it->second;
      auto& ins = st_->insert.reset().bind_text(1, r.device_id).bind(2, seq).bind(3, r.timestamp_ms);
      if (auto st = ins.bind_blob(4, r.payload).run("inserting a reading"); !st) return st;
      acks.push_back(Ack{sqlite3_last_insert_rowid(c.get()), ReadingId{r.device_id, seq}});
    }
    for (const auto& [device, last] : next) {
      auto& up = st_->upsert_seq.reset().bind_text(1, device).bind(2, last);
      if (auto st = up.run("advancing the sequence of device " + device); !st) return st;
    }
    return ok_status();
  });
  if (!s) return s.take_error();
  for (auto& [device, last] : next) committed_seq_[device] = last;
  return acks;
}


Result<std::vector<OutboxRecord>> Outbox::read_after(std::int64_t after_id, std::size_t n) {
  if (auto p = prepared(); !p) return p.take_error();
  std::vector<OutboxRecord> out;
  const auto limit = static_cast<std::int64_t>(std::min<std::size_t>(n, std::numeric_limits<std::int64_t>::max()));
  auto& q = st_->after.reset().bind(1, after_id).bind(2, limit);
  for (;;) {
    auto row = q.step("fetching the oldest readings");
    if (!row) {
      q.reset();
      return row.take_error();
    }
    if (!*row) break;
    out.push_back(OutboxRecord{q.int64(0), ReadingId{q.text(1), q.int64(2)}, q.int64(3), q.blob(4)});
  }
  q.reset();
  return out;
}

Result<std::vector<OutboxRecord>> Outbox::fetch_oldest_batch(std::size_t n) { return read_after(0, n); }

Result<std::vector<OutboxRecord>> Outbox::fetch_after(std::int64_t after_id, std::size_t n) {
  auto out = read_after(after_id, n);
  if (!out) return out;
  // The producer holds (or is done with) every row up to its cursor. A fetch
  // from below the watermark is a new producer starting over; one from above it
  // is a producer that outlived a restart of this writer.
  handed_out_ = out->empty() ? after_id : out->back().outbox_id;
  return out;
}

Result<std::size_t> Outbox::delete_acknowledged(std::span<const std::int64_t> ids) {
  if (auto p = prepared(); !p) return p.take_error();
  const auto ranges = id_ranges(ids);
  std::size_t deleted = 0;
  auto s = transaction(db_.connection(), "deleting delivered readings", [&]() -> Status {
    for (const auto& [first, last] : ranges) {
      auto& del = st_->delete_range.reset().bind(1, first).bind(2, last);
      if (auto st = del.run("deleting delivered readings"); !st) return st;
      deleted += static_cast<std::size_t>(sqlite3_changes(db_.connection().get()));
    }
    return ok_status();
  });
  if (!s) return s.take_error();
  return deleted;
}

Status Outbox::add_dead_letter(DeadLetterSource source, std::string_view key,
                               std::string_view record, std::string_view reason,
                               std::int64_t now_ms) {
  if (auto p = prepared(); !p) return p;
  const bool own_txn = sqlite3_get_autocommit(db_.connection().get()) != 0;
  auto insert = [&]() -> Status {
    auto& q = st_->dead_letter.reset()
                  .bind_text(1, to_string(source))
                  .bind_text(2, key)
                  .bind_blob(3, record)
                  .bind_text(4, reason)
                  .bind(5, now_ms);
    return q.run("recording a dead letter");
  };
  return own_txn ? transaction(db_.connection(), "recording a dead letter", insert) : insert();
}

Status Outbox::move_to_dead_letters(std::int64_t id, std::string_view reason,
                                    std::int64_t now_ms) {
  if (auto p = prepared(); !p) return p;
  auto s = transaction(db_.connection(), "moving a reading to dead letters", [&]() -> Status {
    auto& q = st_->get_one.reset().bind(1, id);
    auto row = q.step("reading an outbox row");
    if (!row) return row.take_error();
    if (!*row)
      return make_error("storage.not_found",
                        fmt::format("{}: outbox has no reading with id {} (already delivered or "
                                    "dropped)",
                                    db_.path(), id));
    const std::string key = reading_key(q.text(0), q.int64(1));
    const std::string record = q.blob(3);
    q.reset();
    if (auto st = add_dead_letter(DeadLetterSource::reading, key, record, reason, now_ms); !st)
      return st;
    return st_->delete_one.reset().bind(1, id).run("deleting a dead-lettered reading");
  });
  return s;
}

Status Outbox::update_device_health(std::string_view device_id,
                                    std::optional<std::int64_t> last_good_ms,
                                    std::int64_t consecutive_failures,
                                    std::optional<std::int64_t> quarantine_until_ms) {
  if (auto p = prepared(); !p) return p;
  auto& q = st_->device_health.reset().bind_text(1, device_id).bind(3, consecutive_failures);
  if (last_good_ms) q.bind(2, *last_good_ms); else q.bind_null(2);
  if (quarantine_until_ms) q.bind(4, *quarantine_until_ms); else q.bind_null(4);
  return q.run(fmt::format("updating the state of device {}", device_id));
}

Status Outbox::record_quarantine(const Quarantine& q) {
  if (auto p = prepared(); !p) return p;
  auto& st = st_->quarantine.reset().bind_text(1, q.device_id).bind(2, q.attempt).bind(3, q.until_ms);
  return st.bind_text(4, q.reason).run(fmt::format("recording the quarantine of device {}", q.device_id));
}

Status Outbox::clear_quarantine(std::string_view device_id) {
  if (auto p = prepared(); !p) return p;
  return st_->release.reset().bind_text(1, device_id).run(
      fmt::format("recording the release of device {}", device_id));
}

Result<std::vector<Quarantine>> Outbox::quarantines() {
  if (auto p = prepared(); !p) return p.take_error();
  auto& q = st_->quarantined.reset();
  std::vector<Quarantine> out;
  for (;;) {
    auto row = q.step("listing quarantined devices");
    if (!row) return row.take_error();
    if (!*row) break;
    out.push_back(Quarantine{q.text(0), q.int64(1), q.int64(2), q.text(3)});
  }
  q.reset();
  return out;
}

Status Outbox::drop_oldest(std::size_t n, std::int64_t older_than_ms, RetentionReport& report) {
  std::vector<std::int64_t> ids;
  std::map<std::string, DroppedRange> ranges;
  auto s = transaction(db_.connection(), "dropping the oldest readings", [&]() -> Status {
    // The oldest n rows the producer does not hold (above its watermark),
    // stopping at the first one young enough to keep: bounded work, and a
    // batch is contiguous in arrival order.
    auto& q = st_->after.reset().bind(1, handed_out_).bind(2, static_cast<std::int64_t>(n));
    while (ids.size() < n) {
      auto row = q.step("scanning the oldest readings");
      if (!row) return row.take_error();
      if (!*row) break;
      const std::int64_t id = q.int64(0);
      if (q.int64(3) >= older_than_ms) break;
      ids.push_back(id);
      auto& r = ranges[q.text(1)];
      const std::int64_t seq = q.int64(2);
      r.first_seq = r.count == 0 ? seq : std::min(r.first_seq, seq);
      r.last_seq = std::max(r.last_seq, seq);
      ++r.count;
    }
    q.reset();
    for (auto id : ids)
      if (auto st = st_->delete_one.reset().bind(1, id).run("dropping a reading"); !st) return st;
    return ok_status();
  });
  if (!s) return s;
  if (ids.empty()) return ok_status();
  report.dropped += ids.size();
  ++report.batches;
  for (auto& entry : ranges) {  // not a structured binding: clang 14 (the fuzz build) cannot capture one
    const auto& device = entry.first;
    auto& r = entry.second;
    auto it = std::find_if(report.devices.begin(), report.devices.end(),
                           [&](const DroppedRange& d) { return d.device_id == device; });
    if (it == report.devices.end()) {
      r.device_id = device;
      report.devices.push_back(r);
    } else {
      it->first_seq = std::min(it->first_seq, r.first_seq);
      it->last_seq = std::max(it->last_seq, r.last_seq);
      it->count += r.count;
    }
  }
  return ok_status();
}

Result<RetentionReport> Outbox::enforce_retention(const RetentionLimits& limits,
                                                  std::int64_t now_ms) {
  if (auto p = prepared(); !p) return p.take_error();
  RetentionReport report;
  for (std::size_t i = 0; i < limits.max_batches; ++i) {
    const std::size_t before = report.dropped;
    if (limits.max_bytes > 0) {
      auto used = db_.used_bytes();
      if (!used) return used.take_error();
      if (*used > limits.max_bytes) {
        report.reason = "max_outbox_bytes";
        if (auto s = drop_oldest(limits.batch_rows, std::numeric_limits<std::int64_t>::max(),
                                 report); !s)
          return s.take_error();
        if (report.dropped == before) break;  // nothing left that may be dropped
        continue;
      }
    }
    if (limits.max_age_s == 0) break;
    const auto cutoff = now_ms - static_cast<std::int64_t>(limits.max_age_s) * 1000;
    if (auto s = drop_oldest(limits.batch_rows, cutoff, report); !s) return s.take_error();
    if (report.dropped == before) break;
    if (report.reason.empty()) report.reason = "max_outbox_age_s";
  }
  return report;
}

}  // namespace edgepoll::storage
