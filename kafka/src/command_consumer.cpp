#include "edgepoll/kafka/command_consumer.hpp"

#include <chrono>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <librdkafka/rdkafkacpp.h>
#include <spdlog/spdlog.h>

#include "client_conf.hpp"
#include "edgepoll/kafka/producer.hpp"
#include "edgepoll/supervision/backoff.hpp"

namespace edgepoll::kafka {

namespace {
// "attempt 1: ...; attempt 2: ..." — a dead letter after retries carries them all.
Error with_every_attempt(const std::vector<Error>& attempts) {
  Error last = attempts.back();
  if (attempts.size() == 1) return last;
  std::string all;
  for (std::size_t i = 0; i < attempts.size(); ++i)
    all += fmt::format("{}attempt {}: {}", i ? "; " : "", i + 1, attempts[i].describe());
  return make_error(last.code, fmt::format("gave up after {} attempts: {}", attempts.size(), all), false,
                    last.hint);
}
}  // namespace

struct CommandConsumer::Impl {
  KafkaConfig config;
  CommandHandler* handler = nullptr;
  DeadLetterSink* sink = nullptr;
  const supervision::Clock* clock = nullptr;
  detail::EventLogger events{"command consumer"};
  std::unique_ptr<RdKafka::KafkaConsumer> consumer;
  std::unique_ptr<Producer> dead_letters;  // to the dead-letter topic
  std::optional<DeliveryReport> last_report;  // of the dead letter being confirmed
  CommandStats stats;
  bool closed = false;

  // A command for this node whose last try failed with a retryable error.
  struct Retry {
    std::unique_ptr<RdKafka::Message> message;
    Command command;
    std::vector<Error> errors;  // one per attempt so far
    supervision::TimePoint due;
  };
  std::optional<Retry> retry;
  std::unique_ptr<supervision::FullJitterBackoff> backoff;

  Status handle(std::unique_ptr<RdKafka::Message> m);
  Status attempt(std::unique_ptr<RdKafka::Message> m, Command command, std::vector<Error> errors);
  Status dead_letter(const RdKafka::Message& m, const Error& error, std::size_t attempts);
  void commit(const RdKafka::Message& m);
};

CommandConsumer::CommandConsumer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

CommandConsumer::~CommandConsumer() { close(); }

Result<std::unique_ptr<CommandConsumer>> CommandConsumer::create(
    const KafkaConfig& config, CommandHandler& handler, DeadLetterSink& sink, const supervision::Clock& clock,
    const std::map<std::string, std::string>& overrides) {
  std::map<std::string, std::string> forced = {{"enable.auto.commit", "false"},
                                               {"enable.auto.offset.store", "false"}};
  for (const auto& [k, v] : overrides) forced[k] = v;
  auto conf = detail::make_conf(
      config, {{"group.id", config.commands_group()}, {"auto.offset.reset", "earliest"}}, forced);
  if (!conf) return conf.take_error();
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->handler = &handler;
  impl->sink = &sink;
  impl->clock = &clock;
  impl->backoff = std::make_unique<supervision::FullJitterBackoff>(config.command_retry_base,
                                                                   config.command_retry_cap);
  if (auto s = detail::set_callback(**conf, "event_cb", &impl->events); !s) return s.take_error();
  std::string err;
  impl->consumer.reset(RdKafka::KafkaConsumer::create(conf->get(), err));
  if (!impl->consumer)
    return make_error("kafka.consumer.create", "creating the command consumer: " + err);
  if (auto e = impl->consumer->subscribe({config.commands_topic}); e != RdKafka::ERR_NO_ERROR)
    return make_error("kafka.consumer.subscribe",
                      fmt::format("subscribing to {}: {}", config.commands_topic,
                                  RdKafka::err2str(e)));
  auto producer = Producer::create(config, overrides);
  if (!producer) return producer.take_error();
  impl->dead_letters = std::move(*producer);
  impl->dead_letters->on_delivery([p = impl.get()](const DeliveryReport& r) { p->last_report = r; });
  return std::unique_ptr<CommandConsumer>(new CommandConsumer(std::move(impl)));
}

Result<std::size_t> CommandConsumer::poll(std::size_t max) {
  impl_->dead_letters->poll();
  std::size_t handled = 0;
  if (impl_->retry) {
    // No message is taken while a retry waits: the ones behind it keep their
    // order. (The wait is bounded by command_attempts * command_retry_cap_ms,
    // far below librdkafka's max.poll.interval.ms of 5 minutes.)
    if (impl_->clock->now() < impl_->retry->due) return handled;
    auto r = std::move(*impl_->retry);
    impl_->retry.reset();
    if (auto s = impl_->attempt(std::move(r.message), std::move(r.command), std::move(r.errors)); !s)
      return s.take_error();
    ++handled;
  }
  while (handled < max && !impl_->closed && !impl_->retry) {
    std::unique_ptr<RdKafka::Message> m(impl_->consumer->consume(0));
    if (m->err() == RdKafka::ERR__TIMED_OUT || m->err() == RdKafka::ERR__PARTITION_EOF) break;
    if (m->err() != RdKafka::ERR_NO_ERROR) {
      // Broker trouble is reported by the event callback; it is not a command.
      spdlog::debug("kafka command consumer: {}", m->errstr());
      break;
    }
    if (auto s = impl_->handle(std::move(m)); !s) return s.take_error();
    ++handled;
  }
  return handled;
}

std::optional<supervision::TimePoint> CommandConsumer::retry_due() const {
  if (!impl_->retry) return std::nullopt;
  return impl_->retry->due;
}

Status CommandConsumer::Impl::handle(std::unique_ptr<RdKafka::Message> m) {
  const std::string record(static_cast<const char*>(m->payload()), m->len());
  auto command = Command::parse(record);
  if (!command) {
    if (auto s = dead_letter(*m, command.error(), 1); !s) return s;
    commit(*m);
    return ok_status();
  }
  if (!command->addressed_to(config.node_id)) {
    ++stats.ignored_other_node;
    spdlog::debug("kafka: command {}/{}/{} is for node {}, not {}", m->topic_name(), m->partition(), m->offset(),
                  command->node, config.node_id);
    commit(*m);
    return ok_status();
  }
  // The config overlay records where a change came from.
  command->source = fmt::format("{}/{}/{}", m->topic_name(), m->partition(), m->offset());
  backoff->reset();
  return attempt(std::move(m), std::move(command.value()), {});
}

Status CommandConsumer::Impl::attempt(std::unique_ptr<RdKafka::Message> m, Command command,
                                      std::vector<Error> errors) {
  Status outcome = handler->apply(command);
  if (outcome) {
    ++stats.applied;
    if (!errors.empty())
      spdlog::info("kafka: command {} applied at attempt {}", command.id, errors.size() + 1);
    commit(*m);
    return ok_status();
  }
  errors.push_back(outcome.error());
  if (outcome.error().retryable && errors.size() < config.command_attempts) {
    ++stats.retries;
    const auto delay = backoff->next();
    spdlog::warn("kafka: command {}/{}/{} failed (attempt {} of {}), retrying in {} ms: {}", m->topic_name(),
                 m->partition(), m->offset(), errors.size(), config.command_attempts,
                 std::chrono::duration_cast<std::chrono::milliseconds>(delay).count(),
                 outcome.error().describe());
    retry = Retry{std::move(m), std::move(command), std::move(errors), clock->now() + delay};
    return ok_status();
  }
  const auto attempts = errors.size();
  if (auto s = dead_letter(*m, with_every_attempt(errors), attempts); !s) return s;
  commit(*m);
  return ok_status();
}

Status CommandConsumer::Impl::dead_letter(const RdKafka::Message& m, const Error& error, std::size_t attempts) {
  const std::string record(static_cast<const char*>(m.payload()), m.len());
  std::string key = Command::id_of(record);
  if (key.empty()) key = fmt::format("{}/{}/{}", m.topic_name(), m.partition(), m.offset());
  CommandDeadLetter letter{key,           record,     error, m.topic_name(),
                           m.partition(), m.offset(), supervision::wall_clock_ms()};
  if (auto s = sink->record(letter); !s) return s;
  OutgoingRecord out{config.dead_letter_topic, key, record, 0, 0,
                     {{"error", error.describe()},
                      {"error-code", error.code},
                      {"attempts", std::to_string(attempts)},
                      {"source-topic", m.topic_name()},
                      {"source-partition", std::to_string(m.partition())},
                      {"source-offset", std::to_string(m.offset())},
                      {"time", fmt::format("{:%FT%TZ}", fmt::gmtime(letter.time_ms / 1000))}}};
  // The copy on the topic is confirmed before the offset is committed: the
  // commit used to follow the produce at once, so a dead letter could be
  // counted (and its offset committed) while its copy was still queued in
  // librdkafka, and a crash in that window lost the copy.
  last_report.reset();
  Status copied = dead_letters->produce(out);
  if (copied) copied = dead_letters->flush(config.message_timeout);
  dead_letters->poll();
  if (copied && last_report && last_report->error) copied = Status(*last_report->error);
  if (!copied)
    spdlog::warn("kafka: command {} not copied to {}: {}", key, config.dead_letter_topic,
                 copied.error().describe());
  ++stats.dead_lettered;
  spdlog::warn("kafka: command {} dead-lettered: {}", key, error.describe());
  return ok_status();
}

void CommandConsumer::Impl::commit(const RdKafka::Message& m) {
  std::vector<RdKafka::TopicPartition*> offsets = {
      RdKafka::TopicPartition::create(m.topic_name(), m.partition(), m.offset() + 1)};
  if (auto e = consumer->commitAsync(offsets); e != RdKafka::ERR_NO_ERROR)
    spdlog::warn("kafka command consumer: committing {}: {}", m.topic_name(), RdKafka::err2str(e));
  RdKafka::TopicPartition::destroy(offsets);  // a leaked list makes destroy hang
}

const CommandStats& CommandConsumer::stats() const { return impl_->stats; }

void CommandConsumer::close() {
  if (!impl_ || impl_->closed) return;
  impl_->closed = true;
  // A command waiting for a retry is not committed: the next consumer of this
  // group gets it again.
  impl_->retry.reset();
  impl_->consumer->close();
  // Best effort: the sink already holds every dead letter.
  (void)impl_->dead_letters->flush(std::chrono::seconds(2));
}

}  // namespace edgepoll::kafka
