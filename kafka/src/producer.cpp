#include "edgepoll/kafka/producer.hpp"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include "client_conf.hpp"

namespace edgepoll::kafka {

Error classify_kafka_error(int code, std::string_view context) {
  const auto err = static_cast<RdKafka::ErrorCode>(code);
  bool permanent = false;
  switch (err) {
    case RdKafka::ERR_MSG_SIZE_TOO_LARGE:
    case RdKafka::ERR_INVALID_RECORD:
    case RdKafka::ERR_RECORD_LIST_TOO_LARGE:
    case RdKafka::ERR_INVALID_MSG:
    case RdKafka::ERR_TOPIC_EXCEPTION:
    case RdKafka::ERR_TOPIC_AUTHORIZATION_FAILED:
    case RdKafka::ERR__INVALID_ARG:
      permanent = true;
      break;
    default:
      break;
  }
  return make_error(permanent ? "kafka.delivery.permanent" : "kafka.delivery.retriable",
                    fmt::format("{}: {} ({})", context, RdKafka::err2str(err), code), !permanent,
                    permanent ? "the broker will never accept this record; see dead_letters"
                              : "retried with backoff; check that the brokers are reachable");
}

namespace {

class DeliveryRelay final : public RdKafka::DeliveryReportCb {
 public:
  DeliveryHandler handler;
  void dr_cb(RdKafka::Message& m) override {
    if (!handler) return;
    DeliveryReport r;
    r.opaque = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(m.msg_opaque()));
    r.partition = m.partition();
    r.offset = m.offset();
    if (m.err() != RdKafka::ERR_NO_ERROR)
      r.error = classify_kafka_error(m.err(), fmt::format("delivery to topic {}", m.topic_name()));
    handler(r);
  }
};

}  // namespace

struct Producer::Impl {
  DeliveryRelay relay;
  detail::EventLogger events{"producer"};
  std::unique_ptr<RdKafka::Producer> producer;
  rd_kafka_queue_t* reports = nullptr;  // the queue poll() serves, while a wake is set
  std::function<void()> wake;

  static void on_queued(rd_kafka_t*, void* opaque) { static_cast<Impl*>(opaque)->wake(); }
  void stop_waking() {
    if (!reports) return;
    rd_kafka_queue_cb_event_enable(reports, nullptr, nullptr);
    rd_kafka_queue_destroy(reports);
    reports = nullptr;
    wake = {};
  }
};

Producer::Producer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

void Producer::wake_on_report(std::function<void()> wake) {
  impl_->stop_waking();  // the callback is off before its function changes
  if (!wake) return;
  impl_->wake = std::move(wake);
  impl_->reports = rd_kafka_queue_get_main(impl_->producer->c_ptr());
  rd_kafka_queue_cb_event_enable(impl_->reports, &Impl::on_queued, impl_.get());
}

Producer::~Producer() {
  if (impl_) impl_->stop_waking();
  // Undelivered records stay in the outbox; nothing to wait for here.
  if (impl_ && impl_->producer) impl_->producer->purge(RdKafka::Producer::PURGE_QUEUE |
                                                       RdKafka::Producer::PURGE_INFLIGHT);
}

Result<std::unique_ptr<Producer>> Producer::create(
    const KafkaConfig& config, const std::map<std::string, std::string>& overrides) {
  // Idempotence and acks=all are not defaults the user may turn off: the outbox
  // deletes a reading on the strength of this acknowledgement.
  std::map<std::string, std::string> forced = {{"enable.idempotence", "true"}, {"acks", "all"}};
  for (const auto& [k, v] : overrides) forced[k] = v;
  auto conf = detail::make_conf(
      config,
      {{"compression.codec", config.compression},
       {"message.timeout.ms", std::to_string(config.message_timeout.count())},
       {"linger.ms", "5"},
       {"queue.buffering.max.messages", std::to_string(std::max<std::size_t>(
                                            100000, config.max_in_flight * 2))},
       {"client.id", "edgepoll"}},
      forced);
  if (!conf) return conf.take_error();
  auto impl = std::make_unique<Impl>();
  if (auto s = detail::set_callback(**conf, "dr_cb", &impl->relay); !s) return s.take_error();
  if (auto s = detail::set_callback(**conf, "event_cb", &impl->events); !s) return s.take_error();
  std::string err;
  impl->producer.reset(RdKafka::Producer::create(conf->get(), err));
  if (!impl->producer)
    return make_error("kafka.producer.create", "creating the producer: " + err, false,
                      "check [kafka] settings");
  return std::unique_ptr<Producer>(new Producer(std::move(impl)));
}

Status Producer::produce(const OutgoingRecord& r) {
  RdKafka::Headers* headers = nullptr;
  if (!r.headers.empty()) {
    headers = RdKafka::Headers::create();
    for (const auto& [k, v] : r.headers) headers->add(k, v);
  }
  const auto err = impl_->producer->produce(
      std::string(r.topic), RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
      const_cast<char*>(r.payload.data()), r.payload.size(), r.key.data(), r.key.size(),
      r.timestamp_ms, headers,
      // librdkafka hands the record's id back in its opaque pointer, never dereferenced.
      reinterpret_cast<void*>(static_cast<std::uintptr_t>(r.opaque)));  // NOLINT(performance-no-int-to-ptr)
  if (err == RdKafka::ERR_NO_ERROR) return ok_status();  // headers now owned by librdkafka
  delete headers;
  return classify_kafka_error(err, fmt::format("producing to topic {}", r.topic));
}

int Producer::poll() { return impl_->producer->poll(0); }

void Producer::on_delivery(DeliveryHandler handler) { impl_->relay.handler = std::move(handler); }

Status Producer::flush(std::chrono::milliseconds timeout) {
  const auto err = impl_->producer->flush(static_cast<int>(timeout.count()));
  if (err == RdKafka::ERR_NO_ERROR) return ok_status();
  return classify_kafka_error(err, "flushing the producer");
}

std::size_t Producer::queued() const {
  return static_cast<std::size_t>(impl_->producer->outq_len());
}

std::optional<Error> Producer::fatal_error() const {
  if (!impl_->events.fatal()) return std::nullopt;
  return make_error("kafka.producer.fatal", impl_->events.fatal_reason(), true,
                    "the producer is recreated; unacknowledged readings are re-sent");
}

}  // namespace edgepoll::kafka
