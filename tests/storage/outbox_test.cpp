#include "edgepoll/storage/outbox.hpp"

#include <gtest/gtest.h>

#include "edgepoll/storage/reader.hpp"
#include "store_fixture.hpp"

namespace edgepoll::storage {
namespace {

using testing::config_for;
using testing::TempDir;

std::vector<Reading> readings(const std::string& device, int n, std::int64_t ts = 1000) {
  std::vector<Reading> out;
  for (int i = 0; i < n; ++i) out.push_back(Reading{device, ts + i, "payload-" + std::to_string(i)});
  return out;
}

std::vector<std::int64_t> ids_of(const std::vector<OutboxRecord>& rows) {
  std::vector<std::int64_t> ids;
  for (const auto& r : rows) ids.push_back(r.outbox_id);
  return ids;
}

class OutboxTest : public ::testing::Test {
 protected:
  TempDir dir;
  StoreConfig cfg = config_for(dir.file("edgepoll.db"));
};

TEST_F(OutboxTest, SequencesArePerDeviceAndSurviveARestart) {
  {
    auto db = Database::open(cfg);
    ASSERT_TRUE(db.ok());
    Outbox outbox(*db);
    auto a = outbox.append(readings("a", 3));
    ASSERT_TRUE(a.ok());
    EXPECT_EQ((*a)[0].id, (ReadingId{"a", 1}));
    EXPECT_EQ((*a)[2].id, (ReadingId{"a", 3}));
    auto b = outbox.append(std::vector<Reading>{{"b", 1, "x"}, {"a", 2, "y"}});
    ASSERT_TRUE(b.ok());
    EXPECT_EQ((*b)[0].id, (ReadingId{"b", 1}));
    EXPECT_EQ((*b)[1].id, (ReadingId{"a", 4}));
    // Delivered readings leave the outbox; their sequences are never reused.
    auto rows = outbox.fetch_oldest_batch(10);
    ASSERT_TRUE(outbox.delete_acknowledged(ids_of(*rows)).ok());
  }
  auto db = Database::open(cfg);
  ASSERT_TRUE(db.ok());
  Outbox outbox(*db);
  auto c = outbox.append(readings("a", 1));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)[0].id, (ReadingId{"a", 5}));
}

TEST_F(OutboxTest, FetchPastTheCursorAndDeleteRemovesOnlyAcknowledged) {
  auto db = Database::open(cfg);
  ASSERT_TRUE(db.ok());
  Outbox outbox(*db);
  ASSERT_TRUE(outbox.append(readings("d", 10)).ok());
  auto first = outbox.fetch_after(0, 4);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 4u);
  EXPECT_EQ(first->front().id.seq, 1);
  EXPECT_EQ(first->front().payload, "payload-0");
  EXPECT_EQ(outbox.handed_out(), first->back().outbox_id);
  auto second = outbox.fetch_after(first->back().outbox_id, 4);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->front().id.seq, 5) << "rows up to the cursor are not fetched twice";
  EXPECT_EQ(outbox.handed_out(), second->back().outbox_id);
  auto deleted = outbox.delete_acknowledged(ids_of(*first));
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 4u);
  auto rest = outbox.fetch_oldest_batch(100);
  ASSERT_EQ(rest->size(), 6u);
  EXPECT_EQ(rest->front().id.seq, 5);
}

TEST_F(OutboxTest, WhatWasNeverAcknowledgedIsHandedOutAgainAfterAProducerOrStoreRestart) {
  std::vector<std::int64_t> unacked;
  {
    auto db = Database::open(cfg);
    ASSERT_TRUE(db.ok());
    Outbox outbox(*db);
    ASSERT_TRUE(outbox.append(readings("d", 10)).ok());
    auto held = outbox.fetch_after(0, 10);
    ASSERT_TRUE(held.ok());
    ASSERT_EQ(held->size(), 10u);
    ASSERT_EQ(*outbox.delete_acknowledged(std::vector<std::int64_t>{(*held)[0].outbox_id, (*held)[1].outbox_id,
                                                                      (*held)[2].outbox_id, (*held)[3].outbox_id}),
              4u);
    for (std::size_t i = 4; i < held->size(); ++i) unacked.push_back((*held)[i].outbox_id);
    // A restarted producer starts from cursor 0: the unacknowledged rows again,
    // and the watermark follows it down.
    auto again = outbox.fetch_after(0, 3);
    ASSERT_TRUE(again.ok());
    ASSERT_EQ(again->size(), 3u);
    EXPECT_EQ(again->front().outbox_id, unacked.front());
    EXPECT_EQ(outbox.handed_out(), unacked[2]);
  }  // the process dies with rows in flight: nothing but the rows was on disk
  auto db = Database::open(cfg);
  ASSERT_TRUE(db.ok());
  Outbox outbox(*db);
  EXPECT_EQ(outbox.handed_out(), 0);
  // A producer that outlived the writer's restart keeps its cursor: the new
  // writer takes the watermark from it even when nothing new is there.
  ASSERT_TRUE(outbox.fetch_after(unacked.back(), 10)->empty());
  EXPECT_EQ(outbox.handed_out(), unacked.back());
  auto resent = outbox.fetch_after(0, 100);
  ASSERT_TRUE(resent.ok());
  EXPECT_EQ(ids_of(*resent), unacked) << "the same outbox ids";
  EXPECT_EQ(resent->front().id.seq, 5) << "and the same reading ids";
}

TEST_F(OutboxTest, AcknowledgedIdsAreDeletedByRunsAndNothingElse) {
  auto db = Database::open(cfg);
  ASSERT_TRUE(db.ok());
  Outbox outbox(*db);
  ASSERT_TRUE(outbox.append(readings("d", 12)).ok());
  auto all = outbox.fetch_after(0, 100);
  ASSERT_TRUE(all.ok());
  const auto id = [&](int i) { return (*all)[static_cast<std::size_t>(i)].outbox_id; };
  // Three runs, out of order, with a duplicate and an id that was never stored.
  std::vector<std::int64_t> acked{id(8), id(0), id(1), id(2), id(6), id(7), id(1), id(11) + 1000};
  auto deleted = outbox.delete_acknowledged(acked);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 6u);
  auto rest = outbox.fetch_oldest_batch(100);
  EXPECT_EQ(ids_of(*rest), (std::vector<std::int64_t>{id(3), id(4), id(5), id(9), id(10), id(11)}));
}

TEST_F(OutboxTest, PermanentFailureMovesToDeadLettersWithReasonAndCount) {
  auto db = Database::open(cfg);
  ASSERT_TRUE(db.ok());
  Outbox outbox(*db);
  ASSERT_TRUE(outbox.append(readings("d", 2)).ok());
  auto rows = outbox.fetch_oldest_batch(1);
  ASSERT_TRUE(outbox.move_to_dead_letters(rows->front().outbox_id, "MSG_SIZE_TOO_LARGE", 5000).ok());
  auto missing = outbox.move_to_dead_letters(rows->front().outbox_id, "again", 6000);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "storage.not_found");
  ASSERT_TRUE(outbox.add_dead_letter(DeadLetterSource::command, "cmd-7", "{bad", "parse error", 7000).ok());
  ASSERT_TRUE(outbox.add_dead_letter(DeadLetterSource::command, "cmd-7", "{bad", "parse error", 8000).ok());

  auto reader = Reader::open(cfg);
  ASSERT_TRUE(reader.ok());
  auto dead = reader->dead_letters(10);
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->size(), 2u);
  EXPECT_EQ((*dead)[0].source, DeadLetterSource::reading);
  EXPECT_EQ((*dead)[0].record_key, "d:1");
  EXPECT_EQ((*dead)[0].record, "payload-0");
  EXPECT_EQ((*dead)[0].reason, "MSG_SIZE_TOO_LARGE");
  EXPECT_EQ((*dead)[1].source, DeadLetterSource::command);
  EXPECT_EQ((*dead)[1].count, 2);
  EXPECT_EQ((*dead)[1].first_seen_ms, 7000);
  EXPECT_EQ((*dead)[1].last_seen_ms, 8000);
  auto depth = reader->outbox_depth();
  ASSERT_TRUE(depth.ok());
  EXPECT_EQ(depth->readings, 1);
}

TEST_F(OutboxTest, RetentionByAgeDropsTheOldestInWholeBatchesAndNamesDevices) {
  auto db = Database::open(cfg);
  ASSERT_TRUE(db.ok());
  Outbox outbox(*db);
  ASSERT_TRUE(outbox.append(readings("old", 25, 1'000)).ok());
  ASSERT_TRUE(outbox.append(readings("new", 5, 100'000)).ok());
  RetentionLimits limits{0, 60, 10, 100};  // older than 60 s at now = 100 s
  auto r = outbox.enforce_retention(limits, 100'000);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->dropped, 25u);
  EXPECT_EQ(r->batches, 3u);
  EXPECT_EQ(r->reason, "max_outbox_age_s");
  ASSERT_EQ(r->devices.size(), 1u);
  EXPECT_EQ(r->devices[0].device_id, "old");
  EXPECT_EQ(r->devices[0].first_seq, 1);
  EXPECT_EQ(r->devices[0].last_seq, 25);
  auto rest = outbox.fetch_oldest_batch(100);
  ASSERT_EQ(rest->size(), 5u);
  EXPECT_EQ(rest->front().id.device_id, "new");
}

TEST_F(OutboxTest, RetentionBySizeDropsOldestUntilUnderBudgetButNeverInFlight) {
  auto db = Database::open(cfg);
  ASSERT_TRUE(db.ok());
  Outbox outbox(*db);
  std::vector<Reading> big;
  for (int i = 0; i < 2000; ++i) big.push_back(Reading{"dev-" + std::to_string(i % 3), i, std::string(500, 'z')});
  ASSERT_TRUE(outbox.append(big).ok());
  auto in_flight = outbox.fetch_after(0, 50);  // held by the producer
  ASSERT_TRUE(in_flight.ok());
  auto before = db->used_bytes();
  ASSERT_TRUE(before.ok());
  const std::uint64_t budget = *before / 2;
  auto r = outbox.enforce_retention(RetentionLimits{budget, 0, 100, 1000}, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_GT(r->dropped, 0u);
  EXPECT_EQ(r->dropped % 100, 0u) << "whole batches";
  EXPECT_EQ(r->reason, "max_outbox_bytes");
  EXPECT_EQ(r->devices.size(), 3u);
  EXPECT_LE(*db->used_bytes(), budget);
  // The in-flight batch is still there: the producer may be delivering it.
  ASSERT_TRUE(outbox.delete_acknowledged(ids_of(*in_flight)).ok());
  auto reader = Reader::open(cfg);
  EXPECT_EQ(reader->outbox_depth()->readings, 2000 - 50 - static_cast<std::int64_t>(r->dropped));
}

TEST_F(OutboxTest, DeviceHealthIsKeptBesideTheSequence) {
  auto db = Database::open(cfg);
  ASSERT_TRUE(db.ok());
  Outbox outbox(*db);
  ASSERT_TRUE(outbox.append(readings("d", 3)).ok());
  ASSERT_TRUE(outbox.update_device_health("d", 1234, 0, std::nullopt).ok());
  ASSERT_TRUE(outbox.update_device_health("d", std::nullopt, 4, 99'000).ok());
  auto reader = Reader::open(cfg);
  auto state = reader->device_state("d");
  ASSERT_TRUE(state.ok());
  ASSERT_TRUE(state->has_value());
  EXPECT_EQ((*state)->last_seq, 3);
  EXPECT_EQ((*state)->last_good_poll_ms, 1234);
  EXPECT_EQ((*state)->consecutive_failures, 4);
  EXPECT_EQ((*state)->quarantine_until_ms, 99'000);
  EXPECT_FALSE(reader->device_state("nobody")->has_value());
  EXPECT_EQ(reader->device_states()->size(), 1u);
}

TEST_F(OutboxTest, AQuarantineIsRecordedListedAndReleasedAcrossAReopen) {
  {
    auto db = Database::open(cfg);
    ASSERT_TRUE(db.ok());
    Outbox outbox(*db);
    ASSERT_TRUE(outbox.append(readings("a", 2)).ok());
    ASSERT_TRUE(outbox.record_quarantine({"a", 1, 50'000, "device subtree ended: crash"}).ok());
    ASSERT_TRUE(outbox.record_quarantine({"b", 3, 70'000, "start failed"}).ok());
    ASSERT_TRUE(outbox.record_quarantine({"a", 2, 60'000, "again"}).ok());  // the next attempt replaces it
  }
  auto db = Database::open(cfg);  // as after a restart of the daemon
  ASSERT_TRUE(db.ok());
  Outbox outbox(*db);
  auto listed = outbox.quarantines();
  ASSERT_TRUE(listed.ok()) << listed.error().describe();
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].device_id, "a");
  EXPECT_EQ((*listed)[0].attempt, 2);
  EXPECT_EQ((*listed)[0].until_ms, 60'000);
  EXPECT_EQ((*listed)[0].reason, "again");
  EXPECT_EQ((*listed)[1].device_id, "b");
  ASSERT_TRUE(outbox.clear_quarantine("a").ok());
  ASSERT_TRUE(outbox.clear_quarantine("nobody").ok());  // releasing an unknown device is no error
  listed = outbox.quarantines();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].device_id, "b");
  // The release keeps the device's other state (its sequence) and the last attempt.
  auto reader = Reader::open(cfg);
  auto a = reader->device_state("a");
  ASSERT_TRUE(a.ok() && a->has_value());
  EXPECT_EQ((*a)->last_seq, 2);
  EXPECT_FALSE((*a)->quarantine_until_ms.has_value());
  EXPECT_FALSE((*a)->quarantine_reason.has_value());
  EXPECT_EQ((*a)->quarantine_attempt, 2);
  auto b = reader->device_state("b");
  EXPECT_EQ((*b)->quarantine_reason, "start failed");
}

}  // namespace
}  // namespace edgepoll::storage
