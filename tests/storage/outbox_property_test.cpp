// The outbox against a simple in-memory model: random interleavings of append,
// fetch past the producer's cursor, a producer restart (cursor back to 0),
// acknowledge and dead-letter, on a real SQLite file, then a reopen. The model
// is a map of id -> record in id order and the producer's cursor.
#include <map>
#include <set>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "edgepoll/storage/outbox.hpp"
#include "edgepoll/storage/reader.hpp"
#include "store_fixture.hpp"

namespace edgepoll::storage {
namespace {

using testing::config_for;
using testing::TempDir;

enum class Op { append, fetch, restart_producer, ack, dead_letter };

struct Step {
  Op op;
  int a;  // device / count / index, interpreted per op
  int b;
};

struct Model {
  std::map<std::int64_t, OutboxRecord> rows;
  std::set<std::int64_t> in_flight;  // what the producer holds
  std::int64_t cursor = 0;           // the producer's
  std::map<std::string, std::int64_t> last_seq;
  std::int64_t last_id = 0;
  std::size_t dead = 0;
};

// The model's answer to fetch_after(after, n).
std::vector<OutboxRecord> expected_fetch(const Model& m, std::int64_t after, std::size_t n) {
  std::vector<OutboxRecord> out;
  for (auto it = m.rows.upper_bound(after); it != m.rows.end() && out.size() < n; ++it) out.push_back(it->second);
  return out;
}

void same_records(const std::vector<OutboxRecord>& got, const std::vector<OutboxRecord>& want) {
  RC_ASSERT(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    RC_ASSERT(got[i].outbox_id == want[i].outbox_id);
    RC_ASSERT(got[i].id == want[i].id);
    RC_ASSERT(got[i].payload == want[i].payload);
    RC_ASSERT(got[i].timestamp_ms == want[i].timestamp_ms);
  }
}

void apply(Outbox& outbox, Model& m, const Step& s) {
  switch (s.op) {
    case Op::append: {
      std::vector<Reading> batch;
      for (int i = 0; i <= s.b % 4; ++i)
        batch.push_back(Reading{"dev-" + std::to_string((s.a + i) % 3), s.a * 10 + i,
                                std::string(static_cast<std::size_t>(s.b % 50), 'a' + i)});
      auto acks = outbox.append(batch);
      RC_ASSERT(acks.ok());
      for (std::size_t i = 0; i < batch.size(); ++i) {
        const Ack& ack = (*acks)[i];
        RC_ASSERT(ack.id.device_id == batch[i].device_id);
        RC_ASSERT(ack.id.seq == ++m.last_seq[batch[i].device_id]);
        RC_ASSERT(ack.outbox_id > m.last_id);  // ids grow and are never reused
        m.last_id = ack.outbox_id;
        m.rows[ack.outbox_id] =
            OutboxRecord{ack.outbox_id, ack.id, batch[i].timestamp_ms, batch[i].payload};
      }
      break;
    }
    case Op::fetch: {
      const auto n = static_cast<std::size_t>(s.a % 6);
      auto got = outbox.fetch_after(m.cursor, n);
      RC_ASSERT(got.ok());
      same_records(*got, expected_fetch(m, m.cursor, n));
      for (const auto& r : *got) m.in_flight.insert(r.outbox_id);
      if (!got->empty()) m.cursor = got->back().outbox_id;
      RC_ASSERT(outbox.handed_out() == m.cursor);
      break;
    }
    case Op::restart_producer: {  // a new producer holds nothing and starts from 0
      m.in_flight.clear();
      m.cursor = 0;
      break;
    }
    case Op::ack: {
      std::vector<std::int64_t> ids(m.in_flight.begin(), m.in_flight.end());
      ids.resize(std::min(ids.size(), static_cast<std::size_t>(s.a % 5)));
      if (s.b % 3 == 0 && !m.rows.empty()) ids.push_back(m.last_id + 1000);  // unknown id
      auto deleted = outbox.delete_acknowledged(ids);
      RC_ASSERT(deleted.ok());
      std::size_t expect = 0;
      for (auto id : ids) expect += m.rows.erase(id);
      for (auto id : ids) m.in_flight.erase(id);
      RC_ASSERT(*deleted == expect);
      break;
    }
    case Op::dead_letter: {
      if (m.rows.empty()) break;
      auto it = std::next(m.rows.begin(), s.a % static_cast<int>(m.rows.size()));
      RC_ASSERT(outbox.move_to_dead_letters(it->first, "poison", 1).ok());
      m.in_flight.erase(it->first);
      m.rows.erase(it);
      ++m.dead;
      break;
    }
  }
}

RC_GTEST_PROP(OutboxProperty, MatchesTheModelUnderRandomInterleavings, ()) {
  const auto steps = *rc::gen::container<std::vector<Step>>(rc::gen::construct<Step>(
      rc::gen::element(Op::append, Op::append, Op::fetch, Op::restart_producer, Op::ack, Op::dead_letter),
      rc::gen::inRange(0, 100), rc::gen::inRange(0, 100)));
  TempDir dir;
  const auto cfg = config_for(dir.file("edgepoll.db"));
  Model m;
  {
    auto db = Database::open(cfg);
    RC_ASSERT(db.ok());
    Outbox outbox(*db);
    for (const auto& s : steps) apply(outbox, m, s);
    auto reader = Reader::open(cfg);
    RC_ASSERT(reader.ok());
    RC_ASSERT(reader->outbox_depth()->readings == static_cast<std::int64_t>(m.rows.size()));
    RC_ASSERT(reader->dead_letters(100000)->size() == m.dead);
  }
  // After a restart nothing is in flight any more: every row is fetched again
  // from cursor 0, and sequences continue where they were.
  m.in_flight.clear();
  auto db = Database::open(cfg);
  RC_ASSERT(db.ok());
  Outbox outbox(*db);
  auto all = outbox.fetch_after(0, 100000);
  RC_ASSERT(all.ok());
  same_records(*all, expected_fetch(m, 0, 100000));
  apply(outbox, m, Step{Op::append, 0, 0});
}

}  // namespace
}  // namespace edgepoll::storage
