// The operator's dead-letter operations, through the writer, on a real store.
#include <gtest/gtest.h>

#include "edgepoll/storage/batch_writer.hpp"
#include "edgepoll/storage/reader.hpp"
#include "store_fixture.hpp"

namespace edgepoll::storage {
namespace {

using testing::await;
using testing::config_for;
using testing::TempDir;

class DeadLettersTest : public ::testing::Test {
 protected:
  DeadLettersTest() {
    auto db = Database::open(cfg);
    if (!db) throw std::runtime_error(db.error().describe());
    writer = std::make_unique<BatchWriter>(std::move(*db), cfg);
  }
  // A reading of `device` stored and then refused by Kafka for good.
  std::int64_t dead_reading(const std::string& device, const std::string& payload) {
    std::promise<Result<Ack>> stored;
    auto f = stored.get_future();
    EXPECT_TRUE(writer->submit(Reading{device, 1000, payload}, [&](Result<Ack> a) { stored.set_value(a); }).ok());
    auto ack = f.get();
    EXPECT_TRUE(ack.ok());
    EXPECT_TRUE(await<Status>([&](auto cb) { writer->move_to_dead_letters(ack->outbox_id, "too large", cb); }).ok());
    return ack->id.seq;
  }
  Reader reader() { return std::move(Reader::open(cfg).value()); }

  TempDir dir;
  StoreConfig cfg = config_for(dir.file("state.db"));
  std::unique_ptr<BatchWriter> writer;
};

TEST_F(DeadLettersTest, AReplayedReadingIsBackInTheOutboxWithItsOwnSequence) {
  const auto seq = dead_reading("meter-1", "payload-bytes");
  const std::string key = "meter-1:" + std::to_string(seq);
  auto letter = await<Result<DeadLetter>>([&](auto cb) { writer->replay_dead_reading(key, cb); });
  ASSERT_TRUE(letter.ok()) << letter.error().describe();
  EXPECT_EQ(letter->record_key, key);
  auto rows = await<Result<std::vector<OutboxRecord>>>([&](auto cb) { writer->fetch_oldest_batch(10, cb); });
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->front().id.device_id, "meter-1");
  EXPECT_EQ(rows->front().id.seq, seq);
  EXPECT_EQ(rows->front().payload, "payload-bytes");
  auto r = reader();
  EXPECT_TRUE(r.dead_letters(10)->empty());
}

TEST_F(DeadLettersTest, ADeadLetterIsFoundByIdOrByRecordKey) {
  dead_reading("meter-1", "p");
  ASSERT_TRUE(await<Status>([&](auto cb) { writer->add_dead_letter(DeadLetterSource::command, "c-7", "{}", "unknown device", cb); }).ok());
  auto r = reader();
  auto by_key = r.dead_letter("c-7");
  ASSERT_TRUE(by_key.ok() && by_key->has_value());
  EXPECT_EQ((*by_key)->source, DeadLetterSource::command);
  auto by_id = r.dead_letter(std::to_string((*by_key)->id));
  ASSERT_TRUE(by_id.ok() && by_id->has_value());
  EXPECT_EQ((*by_id)->record_key, "c-7");
  auto missing = r.dead_letter("nothing-here");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TEST_F(DeadLettersTest, ACommandIsNotReplayedIntoTheOutbox) {
  ASSERT_TRUE(await<Status>([&](auto cb) { writer->add_dead_letter(DeadLetterSource::command, "c-1", "{}", "bad", cb); }).ok());
  auto r = await<Result<DeadLetter>>([&](auto cb) { writer->replay_dead_reading("c-1", cb); });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "dlq.not_a_reading");
  EXPECT_EQ(reader().dead_letters(10)->size(), 1u);  // left as it was
  EXPECT_EQ(writer->stats().errors_other.load(), 0u);  // an operator's mistake is no store error
}

TEST_F(DeadLettersTest, ADroppedDeadLetterIsGoneAndReturnedForTheLog) {
  ASSERT_TRUE(await<Status>([&](auto cb) { writer->add_dead_letter(DeadLetterSource::command, "c-2", "{\"x\":1}", "bad", cb); }).ok());
  auto dropped = await<Result<DeadLetter>>([&](auto cb) { writer->drop_dead_letter("c-2", cb); });
  ASSERT_TRUE(dropped.ok());
  EXPECT_EQ(dropped->record, "{\"x\":1}");
  EXPECT_TRUE(reader().dead_letters(10)->empty());
  auto again = await<Result<DeadLetter>>([&](auto cb) { writer->drop_dead_letter("c-2", cb); });
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, "storage.not_found");
}

TEST_F(DeadLettersTest, AKeyBothSourcesUseIsAmbiguous) {
  ASSERT_TRUE(await<Status>([&](auto cb) { writer->add_dead_letter(DeadLetterSource::command, "k", "{}", "a", cb); }).ok());
  ASSERT_TRUE(await<Status>([&](auto cb) { writer->add_dead_letter(DeadLetterSource::reading, "k", "r", "b", cb); }).ok());
  auto found = await<Result<std::optional<DeadLetter>>>([&](auto cb) { writer->find_dead_letter("k", cb); });
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.error().code, "dlq.ambiguous_key");
}

}  // namespace
}  // namespace edgepoll::storage
