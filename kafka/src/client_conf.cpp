#include "client_conf.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace edgepoll::kafka::detail {
namespace {

Status set(RdKafka::Conf& conf, const std::string& key, const std::string& value) {
  std::string err;
  if (conf.set(key, value, err) != RdKafka::Conf::CONF_OK)
    return make_error("kafka.config.property",
                      fmt::format("librdkafka property \"{}\" refused: {}", key, err), false,
                      "correct [kafka.security], [kafka.properties] or [kafka.secret_files]");
  return ok_status();
}

}  // namespace

Result<std::unique_ptr<RdKafka::Conf>> make_conf(
    const KafkaConfig& config, const std::map<std::string, std::string>& defaults,
    const std::map<std::string, std::string>& overrides) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  auto props = config.client_properties();
  for (const auto& [k, v] : defaults) props.try_emplace(k, v);
  for (const auto& [k, v] : overrides) props[k] = v;
  for (const auto& [k, v] : props)
    if (auto s = set(*conf, k, v); !s) return s.take_error();
  return conf;
}

Status set_callback(RdKafka::Conf& conf, const char* name, RdKafka::DeliveryReportCb* cb) {
  std::string err;
  if (conf.set(name, cb, err) != RdKafka::Conf::CONF_OK)
    return make_error("kafka.config.property", fmt::format("{}: {}", name, err));
  return ok_status();
}

Status set_callback(RdKafka::Conf& conf, const char* name, RdKafka::EventCb* cb) {
  std::string err;
  if (conf.set(name, cb, err) != RdKafka::Conf::CONF_OK)
    return make_error("kafka.config.property", fmt::format("{}: {}", name, err));
  return ok_status();
}

void EventLogger::event_cb(RdKafka::Event& event) {
  switch (event.type()) {
    case RdKafka::Event::EVENT_ERROR:
      if (event.fatal()) {
        fatal_ = true;
        fatal_reason_ = event.str();
        spdlog::error("kafka {}: fatal: {}", client_, event.str());
      } else if (event.err() != last_error_) {
        // Brokers being down is expected and repeats every reconnect: log the
        // change, not every repetition.
        spdlog::warn("kafka {}: {}: {}", client_, RdKafka::err2str(event.err()), event.str());
      }
      last_error_ = event.err();
      break;
    case RdKafka::Event::EVENT_LOG:
      if (event.severity() <= RdKafka::Event::EVENT_SEVERITY_ERROR)
        spdlog::warn("kafka {}: {} {}", client_, event.fac(), event.str());
      else
        spdlog::debug("kafka {}: {} {}", client_, event.fac(), event.str());
      break;
    default:
      break;
  }
}

}  // namespace edgepoll::kafka::detail
