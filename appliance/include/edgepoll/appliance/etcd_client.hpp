#pragma once
// A plain etcd v3 client (no supervision inside): the JSON gateway over plain
// HTTP, on the daemon's event loop. int64 fields travel as JSON strings, keys
// and values as base64; this class hides both.
//
// Non-blocking: requests go through pollers::HttpFetcher (libcurl multi with its
// sockets and timers on Asio, POST bodies included), so a slow or dead etcd
// costs the loop nothing but a timer; the fetcher is the one piece of code that
// knows how to drive curl on Asio, and the client has a fetcher of its own (one
// connection pool) so that etcd never shares a connection cache with devices.
//
// Endpoints are tried in turn: a retryable failure (refused, timeout, 5xx) on
// one moves the request to the next, and the one that answered is tried first
// next time. Every outcome comes back as a value; nothing throws out.
//
// Threading: like the fetcher, one thread (or strand) of `io` owns the client.
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "edgepoll/pollers/http_fetcher.hpp"
#include "edgepoll/supervision/clock.hpp"
#include "edgepoll/supervision/result.hpp"

namespace edgepoll::appliance {

struct EtcdClientOptions {
  std::vector<std::string> endpoints;  // client URLs, e.g. "http://127.0.0.1:2379"
  supervision::Duration timeout = std::chrono::seconds(2);  // per request and endpoint
};

struct EtcdLease {
  std::int64_t id = 0;
  std::int64_t ttl_s = 0;  // what etcd granted
};

struct EtcdKeyValue {
  std::string key;
  std::string value;
  std::int64_t lease = 0;  // 0: none
};

class EtcdClient {
 public:
  template <class T>
  using Callback = std::function<void(Result<T>)>;

  EtcdClient(boost::asio::io_context& io, EtcdClientOptions options);
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;
  // Requests in flight are dropped: their callbacks never run.
  ~EtcdClient();

  // Each callback runs exactly once on the io_context, never inside the call.
  void grant(std::chrono::seconds ttl, Callback<EtcdLease> done);
  // `lease` 0 puts a key without lease. A lease etcd no longer has is the
  // non-retryable error "etcd.lease_not_found".
  void put(const std::string& key, const std::string& value, std::int64_t lease, Callback<Ok> done);
  // One keepalive; the TTL etcd reset the lease to, or "etcd.lease_not_found".
  void keepalive(std::int64_t lease, Callback<std::int64_t> done);
  // A lease already gone counts as revoked (what the caller wanted is true).
  void revoke(std::int64_t lease, Callback<Ok> done);
  // The key, or every key starting with it when `prefix`; empty when none.
  void range(const std::string& key, Callback<std::vector<EtcdKeyValue>> done, bool prefix = false);

  // The endpoint tried first by the next request.
  const std::string& preferred_endpoint() const;
  std::size_t in_flight() const { return fetcher_.in_flight(); }

 private:
  struct Call;
  void post(const std::string& path, std::string body,
            std::function<void(Result<std::string>)> done);
  void attempt(std::shared_ptr<Call> call);

  EtcdClientOptions options_;
  std::size_t preferred_ = 0;
  pollers::HttpFetcher fetcher_;
};

}  // namespace edgepoll::appliance
