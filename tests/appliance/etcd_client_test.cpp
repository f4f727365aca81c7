// The etcd client against a real etcd (started by the test on loopback).
#include "edgepoll/appliance/etcd_client.hpp"

#include <gtest/gtest.h>

#include <optional>

#include "support/etcd_server.hpp"

namespace edgepoll::appliance {
namespace {
using namespace std::chrono_literals;
using testing::EtcdServer;
using testing::free_loopback_port;

// Runs the loop until the callback has delivered (the client's idle connection
// keeps the io_context busy, so run() alone would not return).
template <class T, class Start>
Result<T> await(boost::asio::io_context& io, Start start) {
  std::optional<Result<T>> out;
  start([&](Result<T> r) { out = std::move(r); });
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  io.restart();
  while (!out && std::chrono::steady_clock::now() < deadline) io.run_one_for(100ms);
  if (!out) return make_error("test.timeout", "no callback within 15 s");
  return std::move(*out);
}

std::string dead_endpoint() {
  return "http://127.0.0.1:" + std::to_string(free_loopback_port());
}

TEST(EtcdClient, GrantPutRangeKeepaliveRevoke) {
  EtcdServer etcd;
  boost::asio::io_context io;
  EtcdClient client(io, {{etcd.endpoint()}});

  auto lease = await<EtcdLease>(io, [&](auto cb) { client.grant(5s, cb); });
  ASSERT_TRUE(lease.ok()) << lease.error().describe();
  EXPECT_NE(lease->id, 0);
  EXPECT_EQ(lease->ttl_s, 5);

  auto put =
      await<Ok>(io, [&](auto cb) { client.put("/t/nodes/a", R"({"id":"a"})", lease->id, cb); });
  ASSERT_TRUE(put.ok()) << put.error().describe();
  auto got = await<std::vector<EtcdKeyValue>>(io, [&](auto cb) { client.range("/t/nodes/a", cb); });
  ASSERT_TRUE(got.ok()) << got.error().describe();
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ(got->front().key, "/t/nodes/a");
  EXPECT_EQ(got->front().value, R"({"id":"a"})");
  EXPECT_EQ(got->front().lease, lease->id);

  auto ttl = await<std::int64_t>(io, [&](auto cb) { client.keepalive(lease->id, cb); });
  ASSERT_TRUE(ttl.ok()) << ttl.error().describe();
  EXPECT_EQ(ttl.value(), 5);

  auto revoked = await<Ok>(io, [&](auto cb) { client.revoke(lease->id, cb); });
  ASSERT_TRUE(revoked.ok()) << revoked.error().describe();
  // Revoking the lease took its key with it.
  got = await<std::vector<EtcdKeyValue>>(io, [&](auto cb) { client.range("/t/nodes/a", cb); });
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->empty());

  // The lease is gone: keepalive and put say so, not retryable; revoking again is fine.
  ttl = await<std::int64_t>(io, [&](auto cb) { client.keepalive(lease->id, cb); });
  ASSERT_FALSE(ttl.ok());
  EXPECT_EQ(ttl.error().code, "etcd.lease_not_found");
  EXPECT_FALSE(ttl.error().retryable);
  put = await<Ok>(io, [&](auto cb) { client.put("/t/nodes/a", "x", lease->id, cb); });
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().code, "etcd.lease_not_found");
  revoked = await<Ok>(io, [&](auto cb) { client.revoke(lease->id, cb); });
  EXPECT_TRUE(revoked.ok());
}

TEST(EtcdClient, RangeByPrefixAndBinaryValues) {
  EtcdServer etcd;
  boost::asio::io_context io;
  EtcdClient client(io, {{etcd.endpoint()}});
  const std::string binary("\x00\xff\x01 three bytes and more", 24);
  for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"/p/nodes/a", "1"}, {"/p/nodes/b", binary}, {"/p/other", "3"}}) {
    ASSERT_TRUE((await<Ok>(io, [&](auto cb) { client.put(k, v, 0, cb); })).ok());
  }
  auto got =
      await<std::vector<EtcdKeyValue>>(io, [&](auto cb) { client.range("/p/nodes/", cb, true); });
  ASSERT_TRUE(got.ok()) << got.error().describe();
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].key, "/p/nodes/a");
  EXPECT_EQ((*got)[1].value, binary);
  EXPECT_EQ((*got)[1].lease, 0);
}

TEST(EtcdClient, ADeadEndpointIsSkippedAndTheLiveOneIsPreferredAfterwards) {
  EtcdServer etcd;
  boost::asio::io_context io;
  const std::string dead = dead_endpoint();
  EtcdClient client(io, {{dead, etcd.endpoint()}});
  EXPECT_EQ(client.preferred_endpoint(), dead);
  auto lease = await<EtcdLease>(io, [&](auto cb) { client.grant(3s, cb); });
  ASSERT_TRUE(lease.ok()) << lease.error().describe();
  EXPECT_EQ(client.preferred_endpoint(), etcd.endpoint());
}

TEST(EtcdClient, EveryEndpointDeadIsOneRetryableErrorNamingEach) {
  boost::asio::io_context io;
  const std::string a = dead_endpoint(), b = dead_endpoint();
  EtcdClient client(io, {{a, b}, 1s});
  auto lease = await<EtcdLease>(io, [&](auto cb) { client.grant(3s, cb); });
  ASSERT_FALSE(lease.ok());
  EXPECT_EQ(lease.error().code, "etcd.unreachable");
  EXPECT_TRUE(lease.error().retryable);
  EXPECT_NE(lease.error().message.find(a), std::string::npos) << lease.error().message;
  EXPECT_NE(lease.error().message.find(b), std::string::npos) << lease.error().message;
}

}  // namespace
}  // namespace edgepoll::appliance
