#include "edgepoll/supervision/clock.hpp"
#include "edgepoll/kafka/command_consumer.hpp"

#include <chrono>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <librdkafka/rdkafkacpp.h>
#include <spdlog/spdlog.h>

#include "client_conf.hpp"
#include "edgepoll/kafka/producer.hpp"

namespace edgepoll::kafka {

struct CommandConsumer::Impl {
  KafkaConfig config;
  CommandHandler* handler = nullptr;
  DeadLetterSink* sink = nullptr;
  detail::EventLogger events{"command consumer"};
  std::unique_ptr<RdKafka::KafkaConsumer> consumer;
  std::unique_ptr<Producer> dead_letters;  // to the dead-letter topic
  CommandStats stats;
  bool closed = false;

  Status handle(const RdKafka::Message& m);
  Status dead_letter(const RdKafka::Message& m, const std::string& record, const std::string& key,
                     const Error& error);
  void commit(const RdKafka::Message& m);
};

CommandConsumer::CommandConsumer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

CommandConsumer::~CommandConsumer() { close(); }

Result<std::unique_ptr<CommandConsumer>> CommandConsumer::create(
    const KafkaConfig& config, CommandHandler& handler, DeadLetterSink& sink,
    const std::map<std::string, std::string>& overrides) {
  std::map<std::string, std::string> forced = {{"enable.auto.commit", "false"},
                                               {"enable.auto.offset.store", "false"}};
  for (const auto& [k, v] : overrides) forced[k] = v;
  auto conf = detail::make_conf(
      config, {{"group.id", config.group_id}, {"auto.offset.reset", "earliest"}}, forced);
  if (!conf) return conf.take_error();
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->handler = &handler;
  impl->sink = &sink;
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
  return std::unique_ptr<CommandConsumer>(new CommandConsumer(std::move(impl)));
}

Result<std::size_t> CommandConsumer::poll(std::size_t max) {
  impl_->dead_letters->poll();
  std::size_t handled = 0;
  while (handled < max && !impl_->closed) {
    std::unique_ptr<RdKafka::Message> m(impl_->consumer->consume(0));
    if (m->err() == RdKafka::ERR__TIMED_OUT || m->err() == RdKafka::ERR__PARTITION_EOF) break;
    if (m->err() != RdKafka::ERR_NO_ERROR) {
      // Broker trouble is reported by the event callback; it is not a command.
      spdlog::debug("kafka command consumer: {}", m->errstr());
      break;
    }
    if (auto s = impl_->handle(*m); !s) return s.take_error();
    ++handled;
  }
  return handled;
}

Status CommandConsumer::Impl::handle(const RdKafka::Message& m) {
  const std::string record(static_cast<const char*>(m.payload()), m.len());
  const std::string position = fmt::format("{}/{}/{}", m.topic_name(), m.partition(), m.offset());
  auto command = Command::parse(record);
  if (command) command->source = position;  // the config overlay records where a change came from
  Status outcome = command ? handler->apply(*command) : Status(command.error());
  if (outcome) {
    ++stats.applied;
  } else {
    std::string key = Command::id_of(record);
    if (key.empty()) key = position;
    if (auto s = dead_letter(m, record, key, outcome.error()); !s) return s;
  }
  commit(m);
  return ok_status();
}

Status CommandConsumer::Impl::dead_letter(const RdKafka::Message& m, const std::string& record,
                                          const std::string& key, const Error& error) {
  CommandDeadLetter letter{key,         record,   error,   m.topic_name(),
                           m.partition(), m.offset(), supervision::wall_clock_ms()};
  if (auto s = sink->record(letter); !s) return s;
  ++stats.dead_lettered;
  spdlog::warn("kafka: command {} dead-lettered: {}", key, error.describe());
  OutgoingRecord out{config.dead_letter_topic, key, record, 0, 0,
                     {{"error", error.describe()},
                      {"error-code", error.code},
                      {"source-topic", m.topic_name()},
                      {"source-partition", std::to_string(m.partition())},
                      {"source-offset", std::to_string(m.offset())},
                      {"time", fmt::format("{:%FT%TZ}", fmt::gmtime(letter.time_ms / 1000))}}};
  if (auto s = dead_letters->produce(out); !s)
    spdlog::warn("kafka: command {} not copied to {}: {}", key, config.dead_letter_topic,
                 s.error().describe());
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
  impl_->consumer->close();
  // Best effort: the sink already holds every dead letter.
  (void)impl_->dead_letters->flush(std::chrono::seconds(2));
}

}  // namespace edgepoll::kafka
