// The drainer's policy on a FakeClock with a scripted sink: bounds, pacing,
// dead letters and backoff, deterministic to the nanosecond.
#include "edgepoll/kafka/outbox_drainer.hpp"

#include <set>

#include <gtest/gtest.h>

#include "kafka_test_support.hpp"

namespace edgepoll::kafka {
namespace {

using namespace std::chrono_literals;
using supervision::FakeClock;
using testing::FakeOutbox;

// Keeps produced records until the test settles them; poll() hands the reports.
class ScriptedSink final : public RecordSink {
 public:
  std::vector<std::uint64_t> produced;  // opaque ids, in produce order
  std::vector<DeliveryReport> reports;
  std::optional<Error> refuse_next;  // produce() fails once with it
  std::size_t queue_capacity = SIZE_MAX;

  Status produce(const OutgoingRecord& r) override {
    if (refuse_next) {
      auto e = *refuse_next;
      refuse_next.reset();
      return e;
    }
    if (outstanding.size() >= queue_capacity)
      return make_error("kafka.delivery.retriable", "queue full", true);
    produced.push_back(r.opaque);
    outstanding.insert(r.opaque);
    return ok_status();
  }
  int poll() override {
    auto ready = std::move(reports);
    reports.clear();
    for (auto& r : ready) handler(r);
    return static_cast<int>(ready.size());
  }
  void on_delivery(DeliveryHandler h) override { handler = std::move(h); }

  void ack(std::uint64_t id) { report(id, std::nullopt); }
  void ack_all_produced() {
    while (!outstanding.empty()) ack(*outstanding.begin());
  }
  void fail(std::uint64_t id, bool retryable) {
    report(id, make_error("kafka.delivery.x", "refused", retryable));
  }

 private:
  void report(std::uint64_t id, std::optional<Error> e) {
    if (auto it = outstanding.find(id); it != outstanding.end()) outstanding.erase(it);
    reports.push_back(DeliveryReport{id, std::move(e), 0, 0});
  }
  DeliveryHandler handler;
  std::multiset<std::uint64_t> outstanding;  // produced, not yet reported
};

DrainerOptions options(std::size_t max_in_flight, double rate) {
  DrainerOptions o;
  o.max_in_flight = max_in_flight;
  o.fetch_batch = 7;  // smaller than the bound: several fetches per pump
  o.drain_rate = rate;
  o.retry_base = 100ms;
  o.retry_cap = 1s;
  o.topic_for = [](const OutboxItem&) { return std::string("t"); };
  return o;
}

class DrainerUnit : public ::testing::Test {
 protected:
  void fill(int n) {
    for (int i = 0; i < n; ++i) outbox.append("dev-" + std::to_string(i % 3), "r");
  }
  FakeClock clock;
  FakeOutbox outbox;
  ScriptedSink sink;
};

TEST_F(DrainerUnit, KeepsAtMostMaxInFlightAndDeletesOnlyAcknowledged) {
  fill(100);
  OutboxDrainer d(outbox, sink, clock, options(10, 0));
  ASSERT_TRUE(d.pump());
  EXPECT_EQ(sink.produced.size(), 10u);
  EXPECT_EQ(d.in_flight(), 10u);
  EXPECT_EQ(outbox.size(), 100u);  // nothing deleted before a report
  for (std::uint64_t id = 1; id <= 4; ++id) sink.ack(id);
  ASSERT_TRUE(d.pump());
  EXPECT_EQ(outbox.size(), 96u);
  EXPECT_EQ(sink.produced.size(), 14u);
  EXPECT_EQ(d.in_flight(), 10u);
  // Oldest first.
  for (std::size_t i = 0; i < sink.produced.size(); ++i) EXPECT_EQ(sink.produced[i], i + 1);
}

TEST_F(DrainerUnit, WithEverythingFetchedItWaitsForReportsAsLongAsItsOwnerAsks) {
  fill(5);
  auto o = options(10, 0);
  o.idle_poll = 50ms;
  OutboxDrainer polled(outbox, sink, clock, o);  // nobody wakes it: it looks again soon
  auto delay = polled.pump();
  ASSERT_TRUE(delay);
  EXPECT_EQ(polled.in_flight(), 5u);
  EXPECT_EQ(*delay, 1ms);

  FakeOutbox other;
  for (int i = 0; i < 5; ++i) other.append("dev", "r");
  ScriptedSink other_sink;
  o.in_flight_poll = o.idle_poll;  // woken by reports and commits
  OutboxDrainer woken(other, other_sink, clock, o);
  delay = woken.pump();
  ASSERT_TRUE(delay);
  EXPECT_EQ(woken.in_flight(), 5u);
  EXPECT_EQ(*delay, 50ms);
  other_sink.ack_all_produced();
  delay = woken.pump();
  ASSERT_TRUE(delay);
  EXPECT_EQ(other.size(), 0u);
  EXPECT_EQ(*delay, 50ms) << "idle";
}

TEST_F(DrainerUnit, WithMoreToFetchItAsksToRunAgainSoonEvenWhenItsOwnerIsWoken) {
  fill(30);
  auto o = options(100, 100);  // paced at 100/s: 5 tokens, then more as they refill
  o.in_flight_poll = 50ms;
  OutboxDrainer d(outbox, sink, clock, o);
  auto delay = d.pump();
  ASSERT_TRUE(delay);
  EXPECT_EQ(d.in_flight(), 5u);
  EXPECT_EQ(*delay, 1ms) << "no report or commit will come for rows already on disk";
}

TEST_F(DrainerUnit, AcknowledgedRowsAreDeletedTogetherAndCountAgainstTheBound) {
  fill(20);
  auto o = options(10, 0);
  o.fetch_batch = 50;  // more than will wait: only the window deletes
  o.remove_every = 50ms;
  OutboxDrainer d(outbox, sink, clock, o);
  ASSERT_TRUE(d.pump());
  ASSERT_EQ(sink.produced.size(), 10u);
  sink.ack_all_produced();
  auto delay = d.pump();
  ASSERT_TRUE(delay);
  EXPECT_EQ(d.in_flight(), 0u);
  EXPECT_EQ(outbox.size(), 20u) << "not deleted before the window ends";
  EXPECT_EQ(d.stats().delivered, 0u);
  EXPECT_EQ(sink.produced.size(), 10u) << "rows waiting for their delete hold their place in max_in_flight";
  EXPECT_EQ(*delay, 50ms) << "back when the delete is due";
  EXPECT_FALSE(d.caught_up());
  clock.advance(50ms);
  ASSERT_TRUE(d.pump());
  EXPECT_EQ(outbox.size(), 10u);
  EXPECT_EQ(d.stats().delivered, 10u);
  EXPECT_EQ(sink.produced.size(), 20u);
  sink.ack_all_produced();
  ASSERT_TRUE(d.pump());
  EXPECT_EQ(outbox.size(), 10u);
  ASSERT_TRUE(d.remove_acknowledged());  // the owner's stop does not wait
  EXPECT_EQ(outbox.size(), 0u);
  EXPECT_EQ(d.stats().delivered, 20u);
}

TEST_F(DrainerUnit, PermanentFailureDeadLettersThatRecordOnly) {
  fill(3);
  OutboxDrainer d(outbox, sink, clock, options(10, 0));
  ASSERT_TRUE(d.pump());
  sink.ack(1);
  sink.fail(2, /*retryable=*/false);
  sink.ack(3);
  ASSERT_TRUE(d.pump());
  EXPECT_EQ(outbox.size(), 0u);
  auto dead = outbox.dead_letters();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].first.outbox_id, 2);
  EXPECT_EQ(dead[0].second.message, "refused");
  EXPECT_EQ(d.stats().delivered, 2u);
  EXPECT_EQ(d.stats().backoffs, 0u);  // a bad record is not a bad broker
}

TEST_F(DrainerUnit, RefusedAtProduceIsDeadLetteredAndTheRestGoOn) {
  fill(3);
  sink.refuse_next = make_error("kafka.delivery.permanent", "too large", false);
  OutboxDrainer d(outbox, sink, clock, options(10, 0));
  ASSERT_TRUE(d.pump());
  EXPECT_EQ((std::vector<std::uint64_t>{2, 3}), sink.produced);
  ASSERT_EQ(outbox.dead_letters().size(), 1u);
  EXPECT_EQ(outbox.dead_letters()[0].first.outbox_id, 1);
}

TEST_F(DrainerUnit, RetriableFailureBacksOffThenResendsBeforeNewerRecords) {
  fill(2);
  OutboxDrainer d(outbox, sink, clock, options(10, 0), /*seed=*/42);
  ASSERT_TRUE(d.pump());
  sink.fail(1, /*retryable=*/true);
  sink.fail(2, /*retryable=*/true);
  auto delay = d.pump();
  ASSERT_TRUE(delay);
  EXPECT_LE(d.paused_until() - clock.now(), supervision::Duration(100ms));  // first window: [0, base]
  EXPECT_EQ(d.stats().backoffs, 1u);  // one outage, one step
  EXPECT_EQ(d.in_flight(), 1u);       // 1 again, alone: the probe
  EXPECT_EQ(d.waiting_retry(), 1u);
  outbox.append("dev-new", "r");  // id 3 arrives during the backoff
  clock.advance_to(d.paused_until() + 1ns);
  ASSERT_TRUE(d.pump());
  EXPECT_EQ((std::vector<std::uint64_t>{1, 2, 1, 2, 3}), sink.produced);
  sink.ack_all_produced();
  ASSERT_TRUE(d.pump());
  EXPECT_EQ(outbox.size(), 0u);
  EXPECT_EQ(outbox.times_fetched(1), 1u);  // fetched once: held by the drainer meanwhile
  EXPECT_TRUE(d.caught_up());
}

TEST_F(DrainerUnit, BackoffGrowsWhileFailuresRepeat) {
  fill(1);
  OutboxDrainer d(outbox, sink, clock, options(10, 0), /*seed=*/7);
  supervision::Duration longest{};
  for (int round = 0; round < 8; ++round) {
    ASSERT_TRUE(d.pump());
    sink.fail(1, true);  // the record, or the probe that carried it again
    ASSERT_TRUE(d.pump());
    const supervision::Duration pause = d.paused_until() - clock.now();
    EXPECT_LE(pause, supervision::Duration(1s));  // the cap
    longest = std::max(longest, pause);
    clock.advance(pause + 1ns);
  }
  EXPECT_GT(longest, supervision::Duration(100ms));  // windows widened past base
}

TEST_F(DrainerUnit, DuringABackoffTheOldestRecordAloneIsKeptQueuedAsAProbe) {
  fill(5);
  OutboxDrainer d(outbox, sink, clock, options(10, 0), /*seed=*/3);
  ASSERT_TRUE(d.pump());
  for (std::uint64_t id = 1; id <= 5; ++id) sink.fail(id, /*retryable=*/true);
  auto delay = d.pump();
  ASSERT_TRUE(delay);
  ASSERT_GT(d.paused_until(), clock.now());
  EXPECT_EQ((std::vector<std::uint64_t>{1, 2, 3, 4, 5, 1}), sink.produced);
  EXPECT_EQ(d.in_flight(), 1u);
  EXPECT_EQ(d.waiting_retry(), 4u);
  EXPECT_EQ(d.stats().probes, 1u);
  // Pumped again while paused (to look for the probe's report): no second probe.
  ASSERT_TRUE(d.pump());
  EXPECT_EQ(sink.produced.size(), 6u);
  // The probe timed out too: another backoff step, and the next probe.
  sink.fail(1, true);
  ASSERT_TRUE(d.pump());
  EXPECT_EQ((std::vector<std::uint64_t>{1, 2, 3, 4, 5, 1, 1}), sink.produced);
  EXPECT_EQ(d.stats().backoffs, 2u);
  EXPECT_EQ(d.stats().probes, 2u);
}

TEST_F(DrainerUnit, TheProbesAcknowledgementEndsTheBackoffAndTheRestGoesAtOnceInOrder) {
  fill(5);
  DrainerOptions o = options(10, 0);
  o.retry_base = 10s;  // a pause long enough that only the probe can end it
  o.retry_cap = 10s;
  OutboxDrainer d(outbox, sink, clock, o, /*seed=*/5);
  ASSERT_TRUE(d.pump());
  for (std::uint64_t id = 1; id <= 5; ++id) sink.fail(id, /*retryable=*/true);
  auto delay = d.pump();  // full jitter in [0, 10 s]: this seed's pause is over 1 s
  ASSERT_TRUE(delay);
  ASSERT_GT(d.paused_until(), clock.now() + 1s);
  // The owner pumps again after the returned delay, which is short while paused:
  // the probe's report is looked for, not slept through.
  EXPECT_LE(*delay, o.idle_poll);
  outbox.append("dev-new", "r");  // id 6 arrives during the outage
  sink.ack(1);                    // the broker is back: the probe is acknowledged
  clock.advance(*delay);
  ASSERT_TRUE(d.pump());
  EXPECT_LE(d.paused_until(), clock.now());
  EXPECT_EQ((std::vector<std::uint64_t>{1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 6}), sink.produced);
  sink.ack_all_produced();
  ASSERT_TRUE(d.pump());
  EXPECT_EQ(outbox.size(), 0u);
  EXPECT_EQ(d.stats().delivered, 6u);
  EXPECT_TRUE(d.caught_up());
}

TEST_F(DrainerUnit, PacesBacklogAtTheConfiguredRate) {
  fill(5000);
  OutboxDrainer d(outbox, sink, clock, options(100000, 1000));
  for (int ms = 0; ms < 1000; ++ms) {
    ASSERT_TRUE(d.pump());
    sink.ack_all_produced();
    clock.advance(1ms);
  }
  // 1 s at 1,000/s plus the initial burst of 1/20 s.
  EXPECT_GE(sink.produced.size(), 1000u);
  EXPECT_LE(sink.produced.size(), 1051u);
}

TEST_F(DrainerUnit, FullLocalQueueKeepsRecordsForLater) {
  fill(5);
  sink.queue_capacity = 2;
  OutboxDrainer d(outbox, sink, clock, options(10, 0));
  ASSERT_TRUE(d.pump());
  EXPECT_EQ(sink.produced.size(), 2u);
  EXPECT_EQ(d.waiting_retry(), 3u);
  sink.ack_all_produced();
  ASSERT_TRUE(d.pump());
  sink.ack_all_produced();
  ASSERT_TRUE(d.pump());
  sink.ack_all_produced();
  ASSERT_TRUE(d.pump());
  EXPECT_EQ((std::vector<std::uint64_t>{1, 2, 3, 4, 5}), sink.produced);
  EXPECT_EQ(outbox.size(), 0u);
  EXPECT_EQ(outbox.dead_letters().size(), 0u);
}

}  // namespace
}  // namespace edgepoll::kafka
