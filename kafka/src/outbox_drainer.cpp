#include "edgepoll/kafka/outbox_drainer.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace edgepoll::kafka {

using supervision::Duration;

DrainerOptions DrainerOptions::from(const KafkaConfig& config) {
  DrainerOptions o;
  o.max_in_flight = config.max_in_flight;
  o.fetch_batch = config.fetch_batch;
  o.drain_rate = config.drain_rate;
  o.retry_base = config.retry_base;
  o.retry_cap = config.retry_cap;
  o.topic_for = [topic = config.default_topic](const OutboxItem&) { return topic; };
  return o;
}

OutboxDrainer::OutboxDrainer(OutboxSource& outbox, RecordSink& sink, supervision::Clock& clock,
                             DrainerOptions options, std::uint64_t seed)
    : outbox_(outbox),
      sink_(sink),
      clock_(clock),
      options_(std::move(options)),
      backoff_(options_.retry_base, options_.retry_cap, seed),
      refilled_at_(clock.now()) {
  if (!options_.topic_for)
    throw std::invalid_argument("OutboxDrainer: DrainerOptions::topic_for is empty");
  tokens_ = std::max(1.0, options_.drain_rate / 20);
  sink_.on_delivery([this](const DeliveryReport& r) { on_report(r); });
}

OutboxDrainer::~OutboxDrainer() { sink_.on_delivery({}); }

void OutboxDrainer::on_report(const DeliveryReport& report) {
  auto it = in_flight_.find(static_cast<std::int64_t>(report.opaque));
  if (it == in_flight_.end()) return;  // a report for a record this drainer did not send
  switch (report.outcome()) {
    case DeliveryOutcome::delivered:
      if (acked_.empty()) first_acked_at_ = clock_.now();
      acked_.push_back(it->first);
      // A broker acknowledged (the probe, or a record sent before the failure):
      // it is back, so the rest goes now and not when the backoff would end. A
      // retriable failure in the same poll still pauses again, in settle().
      backoff_.reset();
      paused_until_ = {};
      break;
    case DeliveryOutcome::permanent:
      refused_.emplace_back(std::move(it->second), *report.error);
      break;
    case DeliveryOutcome::retriable:
      retriable_seen_ = true;
      ++stats_.retried;
      retry_.emplace(it->first, std::move(it->second));
      break;
  }
  in_flight_.erase(it);
}

// Back in time to delete what was acknowledged: nothing else may wake the owner.
Duration OutboxDrainer::no_later_than_removal(Duration next) const {
  if (acked_.empty()) return next;
  return std::clamp<Duration>(first_acked_at_ + options_.remove_every - clock_.now(), Duration::zero(), next);
}

Status OutboxDrainer::remove_acknowledged() {
  if (acked_.empty()) return ok_status();
  if (auto s = outbox_.remove(acked_); !s) return s;
  stats_.delivered += acked_.size();
  acked_.clear();
  return ok_status();
}

Status OutboxDrainer::settle() {
  if (!acked_.empty() &&
      (acked_.size() >= options_.fetch_batch || clock_.now() - first_acked_at_ >= options_.remove_every))
    if (auto s = remove_acknowledged(); !s) return s;
  for (auto& [item, error] : refused_) {
    if (auto s = outbox_.dead_letter(item, error); !s) return s;
    ++stats_.dead_lettered;
    spdlog::warn("kafka: reading {}:{} dead-lettered: {}", item.device_id, item.seq,
                 error.describe());
  }
  refused_.clear();
  if (retriable_seen_) {
    // One backoff step per pump, not per record: a broker outage fails every
    // record in flight at once and is still one failure.
    retriable_seen_ = false;
    ++stats_.backoffs;
    paused_until_ = clock_.now() + backoff_.next();
  }
  return ok_status();
}

std::size_t OutboxDrainer::budget() {
  std::size_t room = options_.max_in_flight - std::min(options_.max_in_flight, held());
  if (options_.drain_rate <= 0) return room;
  const auto now = clock_.now();
  const double elapsed = std::chrono::duration<double>(now - refilled_at_).count();
  refilled_at_ = now;
  tokens_ = std::min(std::max(1.0, options_.drain_rate / 20), tokens_ + elapsed * options_.drain_rate);
  return std::min(room, static_cast<std::size_t>(tokens_));
}

// Produces `batch` in order; moves what was queued into in_flight_. Stops at a
// full local queue, keeping the rest for a retry.
void OutboxDrainer::send(std::vector<OutboxItem>& batch) {
  bool queue_full = false;
  for (auto& item : batch) {
    if (queue_full) {
      retry_.emplace(item.outbox_id, std::move(item));
      continue;
    }
    const std::string topic = options_.topic_for(item);
    OutgoingRecord record{topic, item.device_id, item.payload, item.timestamp_ms,
                          static_cast<std::uint64_t>(item.outbox_id),
                          {{"reading-id", fmt::format("{}:{}", item.device_id, item.seq)}}};
    auto s = sink_.produce(record);
    if (s) {
      ++stats_.produced;
      if (options_.drain_rate > 0) tokens_ -= 1;
      in_flight_.emplace(item.outbox_id, std::move(item));
    } else if (s.error().retryable) {
      queue_full = true;
      retry_.emplace(item.outbox_id, std::move(item));
    } else {
      refused_.emplace_back(std::move(item), s.take_error());
    }
  }
}

Result<Duration> OutboxDrainer::pump() {
  sink_.poll();
  if (auto s = settle(); !s) return s.take_error();
  const auto now = clock_.now();
  if (now < paused_until_) {
    // Backing off: one record, the oldest waiting, stays queued in the producer
    // as a probe, so the first acknowledgement after the outage ends the pause
    // (up to retry_cap otherwise). Its report is looked for every idle_poll.
    if (in_flight_.empty() && !retry_.empty()) {
      std::vector<OutboxItem> probe;
      probe.push_back(std::move(retry_.begin()->second));
      retry_.erase(retry_.begin());
      send(probe);
      if (!in_flight_.empty()) ++stats_.probes;  // queued (a refused one went back or to the dead letters)
    }
    return no_later_than_removal(std::min(Duration(paused_until_ - now), options_.idle_poll));
  }

  std::size_t budget = this->budget();
  // What is fetched is held here (in flight or waiting for a retry) until it is
  // acknowledged or dead-lettered; the cursor keeps it from being fetched twice.
  if (budget > 0 && !retry_.empty()) {
    std::vector<OutboxItem> again;
    while (!retry_.empty() && again.size() < budget) {
      again.push_back(std::move(retry_.begin()->second));
      retry_.erase(retry_.begin());
    }
    budget -= again.size();
    send(again);
  }
  while (budget > 0 && retry_.empty()) {
    const std::size_t limit = std::min(budget, options_.fetch_batch);
    auto batch = outbox_.fetch_after(cursor_, limit);
    if (!batch) return batch.take_error();
    caught_up_ = batch->size() < limit;
    if (batch->empty()) break;
    cursor_ = batch->back().outbox_id;
    budget -= batch->size();
    send(*batch);
    if (caught_up_) break;
  }
  if (!refused_.empty())
    if (auto s = settle(); !s) return s.take_error();
  // Nothing more to send until reports come: everything fetched, or the bound
  // reached (what is held waits for its report or its delete).
  if ((caught_up_ && retry_.empty()) || held() >= options_.max_in_flight)
    return no_later_than_removal(in_flight_.empty() ? options_.idle_poll : options_.in_flight_poll);
  return Duration(std::chrono::milliseconds(1));  // more to fetch, or to send again
}

}  // namespace edgepoll::kafka
