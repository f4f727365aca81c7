#include "dead_letters.hpp"

#include <algorithm>
#include <string>

namespace edgepoll::storage {
namespace {

constexpr const char* kColumns =
    "SELECT id, source, record_key, record, reason, first_seen_ms, last_seen_ms, count FROM dead_letters ";

DeadLetter row(const Statement& r) {
  return DeadLetter{r.int64(0),
                    r.text(1) == "command" ? DeadLetterSource::command : DeadLetterSource::reading,
                    r.text(2), r.blob(3), r.text(4), r.int64(5), r.int64(6), r.int64(7)};
}

Result<std::vector<DeadLetter>> rows(Statement& q, std::string_view what) {
  std::vector<DeadLetter> out;
  for (;;) {
    auto r = q.step(what);
    if (!r) return r.take_error();
    if (!*r) return out;
    out.push_back(row(q));
  }
}

bool all_digits(std::string_view s) {
  return !s.empty() && s.size() < 19 && std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
}

Error not_found(const Connection& c, std::string_view key) {
  return make_error("storage.not_found", c.path() + ": no dead letter with key '" + std::string(key) + "'", false,
                    "edgepollctl dlq list shows the keys");
}

Result<DeadLetter> existing(const Connection& c, std::string_view key) {
  auto found = find_dead_letter(c, key);
  if (!found) return found.take_error();
  if (!*found) return not_found(c, key);
  return std::move(**found);
}

Status delete_by_id(Connection& c, std::int64_t id) {
  auto del = c.prepare("DELETE FROM dead_letters WHERE id = ?1");
  if (!del) return del.take_error();
  return del->bind(1, id).run("deleting a dead letter");
}

}  // namespace

Result<std::optional<DeadLetter>> find_dead_letter(const Connection& c, std::string_view key) {
  const bool by_id = all_digits(key);
  auto q = c.prepare(by_id ? (std::string(kColumns) + "WHERE id = ?1").c_str()
                           : (std::string(kColumns) + "WHERE record_key = ?1 ORDER BY id").c_str());
  if (!q) return q.take_error();
  if (by_id) q->bind(1, std::stoll(std::string(key)));
  else q->bind_text(1, key);
  auto found = rows(*q, "finding a dead letter");
  if (!found) return found.take_error();
  if (found->empty()) return std::optional<DeadLetter>();
  if (found->size() > 1) {
    return make_error("dlq.ambiguous_key",
                      "'" + std::string(key) + "' is the key of both a reading and a command dead letter", false,
                      "name it by its id (the first column of edgepollctl dlq list)");
  }
  return std::optional<DeadLetter>(std::move(found->front()));
}

Result<std::vector<DeadLetter>> list_dead_letters(const Connection& c, std::size_t limit, std::int64_t after_id) {
  auto q = c.prepare((std::string(kColumns) + "WHERE id > ?1 ORDER BY id LIMIT ?2").c_str());
  if (!q) return q.take_error();
  q->bind(1, after_id).bind(2, static_cast<std::int64_t>(limit));
  return rows(*q, "listing dead letters");
}

Result<DeadLetter> replay_dead_reading(Connection& c, std::string_view key) {
  DeadLetter letter;
  auto s = transaction(c, "replaying a dead-lettered reading", [&]() -> Status {
    auto found = existing(c, key);
    if (!found) return found.take_error();
    letter = std::move(*found);
    if (letter.source != DeadLetterSource::reading) {
      return make_error("dlq.not_a_reading", "dead letter " + std::to_string(letter.id) + " is a command", false,
                        "a command is replayed by applying it again (the daemon does it over the control socket)");
    }
    const auto colon = letter.record_key.rfind(':');
    const std::string device = colon == std::string::npos ? "" : letter.record_key.substr(0, colon);
    const std::string seq = colon == std::string::npos ? "" : letter.record_key.substr(colon + 1);
    if (device.empty() || !all_digits(seq)) {
      return make_error("dlq.bad_key", "dead reading " + std::to_string(letter.id) + " has key '" +
                                           letter.record_key + "', not <device>:<seq>");
    }
    auto ins = c.prepare("INSERT INTO outbox(device_id, seq, ts_ms, payload) VALUES(?1, ?2, ?3, ?4)");
    if (!ins) return ins.take_error();
    ins->bind_text(1, device).bind(2, std::stoll(seq)).bind(3, letter.first_seen_ms).bind_blob(4, letter.record);
    if (auto st = ins->run("putting a dead reading back into the outbox"); !st) return st;
    return delete_by_id(c, letter.id);
  });
  if (!s) return s.take_error();
  return letter;
}

Result<DeadLetter> drop_dead_letter(Connection& c, std::string_view key) {
  DeadLetter letter;
  auto s = transaction(c, "dropping a dead letter", [&]() -> Status {
    auto found = existing(c, key);
    if (!found) return found.take_error();
    letter = std::move(*found);
    return delete_by_id(c, letter.id);
  });
  if (!s) return s.take_error();
  return letter;
}

}  // namespace edgepoll::storage
