#pragma once
// librdkafka's mock cluster: a Kafka cluster in this process that speaks the real
// protocol on loopback TCP (random ports). tools/kafka-sandbox wraps it as a
// standalone peer; unit tests start one in-process. Fault injection (brokers
// down/up, request errors) is what makes it worth more than a stub.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "edgepoll/supervision/result.hpp"

namespace edgepoll::kafka {

class MockCluster {
 public:
  // Starts `brokers` brokers (ids 1..brokers).
  static Result<std::unique_ptr<MockCluster>> start(int brokers);
  ~MockCluster();
  MockCluster(const MockCluster&) = delete;
  MockCluster& operator=(const MockCluster&) = delete;

  // "127.0.0.1:PORT,127.0.0.1:PORT,..."
  std::string bootstrap_servers() const;
  int broker_count() const { return brokers_; }

  Status create_topic(const std::string& topic, int partitions);
  // Broker ids are 1..broker_count(); 0 means every broker.
  Status set_broker_down(int broker);
  Status set_broker_up(int broker);
  // The next `count` requests of `api` (e.g. "produce" or "0") fail with `error`
  // (a Kafka error name such as "NOT_LEADER_FOR_PARTITION" or its number).
  Status push_request_errors(std::string_view api, std::string_view error, int count);
  // Every request about `topic` fails with `error` until cleared with "NO_ERROR".
  Status set_topic_error(const std::string& topic, std::string_view error);

  // Name or number of a Kafka API ("produce", "fetch", "metadata", "offset_commit",
  // "init_producer_id", ...) -> its ApiKey.
  static Result<std::int16_t> api_key(std::string_view name);
  // Name ("MSG_SIZE_TOO_LARGE", case-insensitive) or number -> error code.
  static Result<int> error_code(std::string_view name);
  // Names accepted by api_key(), for --help.
  static std::string api_names();

 private:
  struct Handles;
  MockCluster(std::unique_ptr<Handles> h, int brokers);
  std::unique_ptr<Handles> h_;
  int brokers_;
};

}  // namespace edgepoll::kafka
