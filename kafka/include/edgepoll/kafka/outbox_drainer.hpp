#pragma once
// Drains the outbox into Kafka: oldest first, at most max_in_flight records
// between produce and delivery report, paced at drain_rate so that a backlog
// after an outage does not starve live readings, deleted only on a successful
// delivery report. A permanent failure dead-letters that one record and the rest
// go on; a retriable one (broker down past message.timeout.ms) is re-sent after a
// full-jitter backoff, which the first acknowledgement ends early: during the
// backoff the oldest waiting record is kept queued alone, as a probe.
//
// Delivery guarantee: at least once. A crash between produce and delete re-sends
// the rows that were in flight or acknowledged and not yet deleted (see
// remove_every), with the same reading id (device id + seq, also in the
// "reading-id" header), so duplicates are bounded by max_in_flight.
// Per-device order holds while nothing is retried (idempotent producer, key =
// device id); a retried record is re-sent before any newer one.
//
// It owns no thread and never blocks: the owner calls pump() from a timer on its
// strand, after the delay pump() returns.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "edgepoll/kafka/kafka_config.hpp"
#include "edgepoll/kafka/outbox_source.hpp"
#include "edgepoll/kafka/record_sink.hpp"
#include "edgepoll/supervision/backoff.hpp"
#include "edgepoll/supervision/clock.hpp"

namespace edgepoll::kafka {

struct DrainerOptions {
  std::size_t max_in_flight = 10000;
  std::size_t fetch_batch = 1000;
  double drain_rate = 50000;  // records/s; 0 = unpaced
  supervision::Duration retry_base = std::chrono::milliseconds(100);
  supervision::Duration retry_cap = std::chrono::seconds(30);
  // How soon pump() asks to run again when the outbox gave all it had (idle)
  // and when, besides, records wait for their delivery reports (in flight).
  // An owner woken by the producer when a report is queued and by the store
  // when rows commit (the production loop) sets in_flight_poll to idle_poll.
  supervision::Duration idle_poll = std::chrono::milliseconds(50);
  supervision::Duration in_flight_poll = std::chrono::milliseconds(1);
  // Acknowledged rows are deleted together, at most this long after the first
  // of them was acknowledged (or once fetch_batch of them wait): one delete
  // transaction per window instead of one per delivery report. Zero: at every
  // pump. Rows waiting for their delete count against max_in_flight, so the
  // duplicates a crash can cause stay bounded by it.
  supervision::Duration remove_every = supervision::Duration::zero();
  // Topic of a record (e.g. by the device's group); default: one topic for all.
  std::function<std::string(const OutboxItem&)> topic_for;

  static DrainerOptions from(const KafkaConfig& config);
};

struct DrainerStats {
  std::uint64_t produced = 0;
  std::uint64_t delivered = 0;  // acknowledged and deleted
  std::uint64_t dead_lettered = 0;
  std::uint64_t retried = 0;
  std::uint64_t backoffs = 0;
  std::uint64_t probes = 0;  // records sent alone during a backoff to learn the broker is back
};

class OutboxDrainer {
 public:
  OutboxDrainer(OutboxSource& outbox, RecordSink& sink, supervision::Clock& clock,
                DrainerOptions options, std::uint64_t seed = 0);
  ~OutboxDrainer();
  OutboxDrainer(const OutboxDrainer&) = delete;
  OutboxDrainer& operator=(const OutboxDrainer&) = delete;

  // One step: serve delivery reports, delete acknowledged rows, dead-letter
  // refused ones, produce more within the bounds. Returns the delay after which
  // the next pump is useful, or the outbox's error (the owner crashes on it).
  Result<supervision::Duration> pump();

  // Deletes what was acknowledged now, without waiting for remove_every (the
  // owner's stop).
  Status remove_acknowledged();

  std::size_t in_flight() const { return in_flight_.size(); }
  std::size_t waiting_retry() const { return retry_.size(); }
  // Nothing in flight or waiting, and the last fetch found the outbox empty.
  bool caught_up() const { return caught_up_ && in_flight_.empty() && retry_.empty() && acked_.empty(); }
  const DrainerStats& stats() const { return stats_; }
  // While backing off after retriable failures: when the pause ends unless an
  // acknowledgement ends it first. In the past otherwise.
  supervision::TimePoint paused_until() const { return paused_until_; }

 private:
  void on_report(const DeliveryReport& report);
  Status settle();
  std::size_t budget();
  // Records that count against max_in_flight: in flight, or acknowledged and not yet deleted.
  std::size_t held() const { return in_flight_.size() + acked_.size(); }
  supervision::Duration no_later_than_removal(supervision::Duration next) const;
  void send(std::vector<OutboxItem>& batch);

  OutboxSource& outbox_;
  RecordSink& sink_;
  supervision::Clock& clock_;
  DrainerOptions options_;
  supervision::FullJitterBackoff backoff_;
  std::int64_t cursor_ = 0;  // highest outbox_id fetched so far
  bool caught_up_ = false;
  std::unordered_map<std::int64_t, OutboxItem> in_flight_;
  std::map<std::int64_t, OutboxItem> retry_;  // by outbox_id: oldest first
  std::vector<std::int64_t> acked_;  // acknowledged, not yet deleted
  supervision::TimePoint first_acked_at_{};  // of what acked_ holds
  std::vector<std::pair<OutboxItem, Error>> refused_;
  bool retriable_seen_ = false;
  supervision::TimePoint paused_until_{};
  double tokens_ = 0;
  supervision::TimePoint refilled_at_{};
  DrainerStats stats_;
};

}  // namespace edgepoll::kafka
