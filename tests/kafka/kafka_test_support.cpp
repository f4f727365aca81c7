#include "kafka_test_support.hpp"

#include <atomic>
#include <memory>
#include <thread>

#include <gtest/gtest.h>
#include <librdkafka/rdkafkacpp.h>
#include <unistd.h>

namespace edgepoll::kafka::testing {

std::string fresh_topic(const std::string& prefix) {
  static std::atomic<int> n{0};
  return prefix + "." + std::to_string(getpid()) + "." + std::to_string(n++);
}

std::map<std::string, std::string> fast_reconnect() {
  return {{"reconnect.backoff.ms", "10"},
          {"reconnect.backoff.max.ms", "100"},
          {"retry.backoff.ms", "10"},
          {"topic.metadata.refresh.interval.ms", "1000"},
          // A consumer whose JoinGroup timed out on a busy machine joins again,
          // and the group waits for its first membership's session to expire
          // before it assigns anything: 45 s by default, which a test's wait
          // for its first command does not cover twice.
          {"session.timeout.ms", "10000"},
          {"heartbeat.interval.ms", "1000"},
          {"log_level", "3"}};
}

KafkaConfig test_config(const std::string& bootstrap) {
  KafkaConfig c;
  c.bootstrap_servers = bootstrap;
  c.properties = fast_reconnect();
  return c;
}

namespace {

// The partitions of `topic` from the cluster's metadata (any broker answers).
std::vector<std::int32_t> partitions_of(RdKafka::KafkaConsumer& consumer, const std::string& topic,
                                        std::chrono::steady_clock::time_point deadline) {
  std::string err;
  std::unique_ptr<RdKafka::Topic> handle(RdKafka::Topic::create(&consumer, topic, nullptr, err));
  while (handle && std::chrono::steady_clock::now() < deadline) {
    RdKafka::Metadata* raw = nullptr;
    if (consumer.metadata(false, handle.get(), &raw, 1000) == RdKafka::ERR_NO_ERROR) {
      std::unique_ptr<RdKafka::Metadata> metadata(raw);
      std::vector<std::int32_t> out;
      for (const auto* t : *metadata->topics())
        if (t->topic() == topic && t->err() == RdKafka::ERR_NO_ERROR)
          for (const auto* p : *t->partitions()) out.push_back(p->id());
      if (!out.empty()) return out;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // the topic is not known yet
  }
  return {};
}

}  // namespace

std::vector<ConsumedRecord> read_topic(const std::string& bootstrap, const std::string& topic,
                                       std::size_t count, std::chrono::milliseconds timeout) {
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", bootstrap, err);
  conf->set("group.id", "reader-" + topic, err);  // required by KafkaConsumer, never joined
  conf->set("enable.auto.commit", "false", err);
  for (const auto& [k, v] : fast_reconnect()) conf->set(k, v, err);
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), err));
  EXPECT_TRUE(consumer) << err;
  if (!consumer) return {};
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // Every partition assigned from its beginning rather than subscribed: no
  // consumer group to join, so the read does not wait on the mock's group
  // coordinator (on a busy machine its requests time out after 25 s, and a
  // group reader then found an empty topic that had its records).
  std::vector<RdKafka::TopicPartition*> assignment;
  for (auto p : partitions_of(*consumer, topic, deadline))
    assignment.push_back(RdKafka::TopicPartition::create(topic, p, RdKafka::Topic::OFFSET_BEGINNING));
  EXPECT_FALSE(assignment.empty()) << "no metadata for topic " << topic;
  consumer->assign(assignment);
  RdKafka::TopicPartition::destroy(assignment);
  std::vector<ConsumedRecord> out;
  while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
    std::unique_ptr<RdKafka::Message> m(consumer->consume(100));
    if (m->err() != RdKafka::ERR_NO_ERROR) continue;
    ConsumedRecord r;
    if (m->key() != nullptr) r.key = *m->key();
    r.payload.assign(static_cast<const char*>(m->payload()), m->len());
    r.partition = m->partition();
    r.offset = m->offset();
    if (auto* h = m->headers())
      for (const auto& header : h->get_all())
        r.headers[header.key()] = std::string(header.value_string(), header.value_size());
    out.push_back(std::move(r));
  }
  consumer->close();
  return out;
}

bool run_until(const std::function<bool()>& done,
               const std::function<std::chrono::nanoseconds()>& step,
               std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    const auto wait = std::min<std::chrono::nanoseconds>(step(), std::chrono::milliseconds(5));
    if (!done()) std::this_thread::sleep_for(wait);
  }
  return true;
}

std::int64_t FakeOutbox::append(const std::string& device, std::string payload) {
  std::lock_guard lock(mutex_);
  OutboxItem item{next_id_++, device, ++seq_[device], 1700000000000, std::move(payload)};
  if (item.payload.empty() && payload_of_) item.payload = payload_of_(item);
  rows_.emplace(item.outbox_id, item);
  return item.outbox_id;
}

std::size_t FakeOutbox::size() const {
  std::lock_guard lock(mutex_);
  return rows_.size();
}

std::vector<std::pair<OutboxItem, Error>> FakeOutbox::dead_letters() const {
  std::lock_guard lock(mutex_);
  return dead_;
}

std::size_t FakeOutbox::times_fetched(std::int64_t id) const {
  std::lock_guard lock(mutex_);
  auto it = fetched_.find(id);
  return it == fetched_.end() ? 0 : it->second;
}

Result<std::vector<OutboxItem>> FakeOutbox::fetch_after(std::int64_t after_id, std::size_t limit) {
  std::lock_guard lock(mutex_);
  std::vector<OutboxItem> out;
  for (auto it = rows_.upper_bound(after_id); it != rows_.end() && out.size() < limit; ++it) {
    out.push_back(it->second);
    ++fetched_[it->first];
  }
  return out;
}

Status FakeOutbox::remove(std::span<const std::int64_t> ids) {
  std::lock_guard lock(mutex_);
  for (auto id : ids) rows_.erase(id);
  return ok_status();
}

Status FakeOutbox::dead_letter(const OutboxItem& item, const Error& reason) {
  std::lock_guard lock(mutex_);
  rows_.erase(item.outbox_id);
  dead_.emplace_back(item, reason);
  return ok_status();
}

}  // namespace edgepoll::kafka::testing
