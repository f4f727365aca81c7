#include "edgepoll/kafka/mock_cluster.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

namespace edgepoll::kafka {
namespace {

struct Api {
  std::string_view name;
  std::int16_t key;
};
// ApiKeys from the Kafka protocol guide (the ones a drill plausibly needs).
constexpr Api kApis[] = {
    {"produce", 0},           {"fetch", 1},           {"list_offsets", 2},
    {"metadata", 3},          {"offset_commit", 8},   {"offset_fetch", 9},
    {"find_coordinator", 10}, {"join_group", 11},     {"heartbeat", 12},
    {"leave_group", 13},      {"sync_group", 14},     {"api_versions", 18},
    {"init_producer_id", 22},
};

Error bad_argument(std::string what) {
  return make_error("kafka.mock.bad_argument", std::move(what));
}

std::optional<int> parse_int(std::string_view s) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string upper(std::string_view s) {
  std::string u(s);
  std::transform(u.begin(), u.end(), u.begin(), [](unsigned char c) { return std::toupper(c); });
  return u;
}

Status check(rd_kafka_resp_err_t err, std::string_view what) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return ok_status();
  return make_error("kafka.mock.failed", fmt::format("{}: {}", what, rd_kafka_err2str(err)));
}

}  // namespace

struct MockCluster::Handles {
  rd_kafka_t* rk = nullptr;  // throw-away producer handle that owns the cluster
  rd_kafka_mock_cluster_t* cluster = nullptr;
  ~Handles() {
    if (cluster != nullptr) rd_kafka_mock_cluster_destroy(cluster);
    if (rk != nullptr) rd_kafka_destroy(rk);
  }
};

MockCluster::MockCluster(std::unique_ptr<Handles> h, int brokers)
    : h_(std::move(h)), brokers_(brokers) {}
MockCluster::~MockCluster() = default;

Result<std::unique_ptr<MockCluster>> MockCluster::start(int brokers) {
  if (brokers < 1) return bad_argument(fmt::format("brokers: expected >= 1, got {}", brokers));
  auto h = std::make_unique<Handles>();
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof errstr);
  h->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (h->rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return make_error("kafka.mock.failed", fmt::format("creating a handle: {}", errstr));
  }
  h->cluster = rd_kafka_mock_cluster_new(h->rk, brokers);
  if (h->cluster == nullptr)
    return make_error("kafka.mock.failed", "rd_kafka_mock_cluster_new failed", true,
                      "check that loopback TCP ports can be bound");
  return std::unique_ptr<MockCluster>(new MockCluster(std::move(h), brokers));
}

std::string MockCluster::bootstrap_servers() const {
  return rd_kafka_mock_cluster_bootstraps(h_->cluster);
}

Status MockCluster::create_topic(const std::string& topic, int partitions) {
  if (partitions < 1)
    return bad_argument(fmt::format("topic {}: partitions: expected >= 1", topic));
  return check(rd_kafka_mock_topic_create(h_->cluster, topic.c_str(), partitions,
                                          std::min(brokers_, 3)),
               "creating topic " + topic);
}

Status MockCluster::set_broker_down(int broker) {
  if (broker < 0 || broker > brokers_)
    return bad_argument(fmt::format("broker: expected 1..{} or 0 (all), got {}", brokers_, broker));
  for (int id = broker == 0 ? 1 : broker; id <= (broker == 0 ? brokers_ : broker); ++id)
    if (auto s = check(rd_kafka_mock_broker_set_down(h_->cluster, id), "broker down"); !s)
      return s;
  return ok_status();
}

Status MockCluster::set_broker_up(int broker) {
  if (broker < 0 || broker > brokers_)
    return bad_argument(fmt::format("broker: expected 1..{} or 0 (all), got {}", brokers_, broker));
  for (int id = broker == 0 ? 1 : broker; id <= (broker == 0 ? brokers_ : broker); ++id)
    if (auto s = check(rd_kafka_mock_broker_set_up(h_->cluster, id), "broker up"); !s) return s;
  return ok_status();
}

Status MockCluster::push_request_errors(std::string_view api, std::string_view error, int count) {
  auto key = api_key(api);
  if (!key) return key.take_error();
  auto code = error_code(error);
  if (!code) return code.take_error();
  if (count < 1) return bad_argument("count: expected >= 1");
  std::vector<rd_kafka_resp_err_t> errors(static_cast<std::size_t>(count),
                                          static_cast<rd_kafka_resp_err_t>(*code));
  rd_kafka_mock_push_request_errors_array(h_->cluster, *key, errors.size(), errors.data());
  return ok_status();
}

Status MockCluster::set_topic_error(const std::string& topic, std::string_view error) {
  auto code = error_code(error);
  if (!code) return code.take_error();
  rd_kafka_mock_topic_set_error(h_->cluster, topic.c_str(),
                                static_cast<rd_kafka_resp_err_t>(*code));
  return ok_status();
}

Result<std::int16_t> MockCluster::api_key(std::string_view name) {
  if (auto n = parse_int(name)) return static_cast<std::int16_t>(*n);
  for (const auto& api : kApis)
    if (api.name == name) return api.key;
  return bad_argument(fmt::format("api \"{}\": expected a number or one of {}", name, api_names()));
}

std::string MockCluster::api_names() {
  std::string s;
  for (const auto& api : kApis) s += (s.empty() ? "" : ", ") + std::string(api.name);
  return s;
}

Result<int> MockCluster::error_code(std::string_view name) {
  if (auto n = parse_int(name)) return *n;
  const std::string wanted = upper(name);
  const rd_kafka_err_desc* descs = nullptr;
  size_t n = 0;
  rd_kafka_get_err_descs(&descs, &n);
  for (size_t i = 0; i < n; ++i)
    if (descs[i].name != nullptr && wanted == descs[i].name) return descs[i].code;
  return bad_argument(fmt::format(
      "error \"{}\": expected a Kafka error number or name such as NOT_LEADER_FOR_PARTITION",
      name));
}

}  // namespace edgepoll::kafka
