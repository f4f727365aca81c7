#pragma once
// HTTP(S) GETs (and the odd POST) for many devices on one Asio io_context. No
// thread per device and no blocking call anywhere.
//
// Plain http:// to a numeric address (what a device on a plant network almost
// always is) goes through the fetcher's own HTTP/1.1 client on Asio sockets.
// Everything else (https, host names) goes through libcurl's multi-socket API,
// with its sockets watched by Asio and its timers Asio timers.
//
// libcurl's requests are spread over a few multi handles ("connection pools")
// by the URL's scheme and authority, so that one device always meets its own
// kept-alive connection again, and devices behind one host share that host's
// pool. Why
// several: libcurl 7.88 walks a multi handle's whole connection cache when a
// finished transfer is removed (and once a second to prune dead connections),
// so with one multi handle every poll costs O(devices) and 10,000 devices
// spend most of their CPU there; with pools a poll costs O(devices / pools).
//
// Every failure (refused, timeout, reset, too large, TLS, HTTP status) comes to
// the callback as an Error value with a retryable flag; nothing throws out.
//
// Threading: an HttpFetcher and its callbacks belong to one thread (or strand)
// of the io_context it was made with; call fetch()/cancel() from there only.
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "edgepoll/pollers/device_config.hpp"
#include "edgepoll/supervision/result.hpp"

namespace edgepoll::pollers {

struct FetchRequest {
  std::string url;
  Duration timeout = std::chrono::seconds(2);
  Duration connect_timeout = Duration::zero();  // 0: same as timeout
  std::size_t max_body = 1 << 20;               // transfer aborted beyond this
  bool verify_tls = true;
  std::string ca_file;  // "" = system store
  Auth auth;
  std::string device_id;  // names the device in errors; may be empty
  // A POST with this body instead of a GET (etcd's JSON gateway takes POSTs).
  std::optional<std::string> post_body;

  // The request a device's config asks for (auth must be loaded already).
  static FetchRequest for_device(const DeviceConfig& config, Auth auth);
};

struct FetchResponse {
  long status = 0;
  std::string body;
  Duration elapsed{};        // request start to last byte
  long new_connections = 0;  // 0 when a kept-alive connection was reused
};

using FetchCallback = std::function<void(Result<FetchResponse>)>;
using RequestId = std::uint64_t;

struct FetcherOptions {
  // Multi handles (each with its own connection cache and timer), made when
  // first needed. An idle one costs about 7 KB (measured with curl_multi_init),
  // so 64 of them are well under 1 % of the memory of 10,000 devices, and they
  // cut the cache walk per poll 64-fold.
  unsigned connection_pools = 64;
  // Idle keep-alive connections kept by one libcurl pool (its oldest idle one
  // is closed beyond this), or by the plain client for one address (a
  // connection finishing beyond this is closed). Per pool or address, not
  // shared: a gateway host with thousands of devices behind it fills its own.
  long max_cached_connections = 20000;
  // An idle connection older than this is closed instead of reused: the cache
  // walks (see above) cost per connection, so connections left over from a
  // burst would cost every later poll. Make this a little longer than the
  // longest poll interval so that each device keeps its own connection.
  Duration max_idle_connection_age = std::chrono::seconds(60);
  // Plain http:// to numeric addresses through the fetcher's own client; false
  // sends every request through libcurl (the benchmarks compare the two).
  bool plain_http_client = true;
};

struct FetcherStats {
  std::uint64_t started = 0;
  std::uint64_t succeeded = 0;
  std::uint64_t failed = 0;
  std::uint64_t cancelled = 0;
};

class HttpFetcher {
 public:
  explicit HttpFetcher(boost::asio::io_context& io, FetcherOptions options = {});
  // Aborts transfers in flight without calling their callbacks.
  ~HttpFetcher();
  HttpFetcher(const HttpFetcher&) = delete;
  HttpFetcher& operator=(const HttpFetcher&) = delete;

  // Starts a GET; `done` runs exactly once on the io_context (never inside this
  // call), unless the request is cancelled first.
  RequestId fetch(const FetchRequest& request, FetchCallback done);
  // Aborts a request in flight; its callback is not called. Harmless if done.
  void cancel(RequestId id);

  std::size_t in_flight() const;
  const FetcherStats& stats() const;
  // Multi handles made so far (at most options.connection_pools).
  std::size_t pools_in_use() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgepoll::pollers
