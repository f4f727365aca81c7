#pragma once
// Plain http:// requests to numeric addresses on Asio sockets of our own: the
// fetcher's path for what devices on a plant network almost always are. libcurl
// keeps everything else (https, host names, credentials in the URL). Why not
// libcurl for all: it spent about 65,000 instructions per poll, more than the
// rest of the daemon's event loop together (bench/RESULTS.md, the ninth round),
// most of them on generality a device's GET does not need.
//
// One request at a time per connection, kept alive and met again by the next
// request to the same address. Reads go straight from the socket into the
// response parser through one buffer shared by all connections (non-blocking
// reads after a readiness wait), so an idle or waiting connection holds no
// buffer. A kept-alive connection that turns out closed before any byte of the
// answer is replaced once by a new one, as libcurl does.
#include <boost/asio/io_context.hpp>
#include <memory>

#include "edgepoll/pollers/http_fetcher.hpp"
#include "edgepoll/pollers/plain_url.hpp"

namespace edgepoll::pollers::detail {

// Whether the plain client can send this request as it is (a bearer token with
// a control character cannot go into a header line).
bool plain_client_can_send(const FetchRequest& request);

class PlainHttpClient {
 public:
  PlainHttpClient(boost::asio::io_context& io, const FetcherOptions& options, FetcherStats& stats);
  // Closes every connection; callbacks of requests in flight are not called.
  ~PlainHttpClient();
  PlainHttpClient(const PlainHttpClient&) = delete;
  PlainHttpClient& operator=(const PlainHttpClient&) = delete;

  // `done` runs exactly once on the io_context, never inside this call,
  // unless cancel(id) comes first.
  void fetch(RequestId id, const PlainUrl& url, const FetchRequest& request, FetchCallback done);
  // False when `id` is not one of this client's requests in flight.
  bool cancel(RequestId id);

  std::size_t in_flight() const;
  std::size_t idle_connections() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgepoll::pollers::detail
