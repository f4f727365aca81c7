#include "plain_http_client.hpp"

#include <fmt/format.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <unordered_map>
#include <vector>

#include "edgepoll/pollers/base64.hpp"
#include "edgepoll/pollers/http_response_parser.hpp"
#include "fetch_error.hpp"

namespace edgepoll::pollers::detail {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using SteadyTime = std::chrono::steady_clock::time_point;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

bool plain_client_can_send(const FetchRequest& request) {
  return request.auth.kind != AuthKind::bearer ||
         std::all_of(request.auth.secret.begin(), request.auth.secret.end(),
                     [](char c) { return c >= 32 && c != 127; });
}

namespace {

struct EndpointHash {
  std::size_t operator()(const tcp::endpoint& e) const {
    const auto& a = e.address();
    std::size_t h = 0;
    if (a.is_v4()) {
      h = std::hash<std::uint32_t>{}(a.to_v4().to_uint());
    } else {
      const auto bytes = a.to_v6().to_bytes();
      h = std::hash<std::string_view>{}(
          std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
    }
    return h * 31 + e.port();
  }
};

struct Connection {
  explicit Connection(asio::io_context& io) : socket(io) {}
  tcp::socket socket;
  SteadyTime idle_since{};
};

// One request from its start to its callback.
struct Exchange {
  explicit Exchange(asio::io_context& io) : timer(io) {}
  RequestId id = 0;
  FetchCallback done;
  tcp::endpoint endpoint;
  std::string request;  // the bytes to send
  std::size_t sent = 0;
  std::unique_ptr<Connection> connection;
  bool reused = false;   // the connection served an earlier request
  bool retried = false;  // a dead kept-alive connection was already replaced
  bool connecting = false;
  // Set when the callback has run or will never run: every handler looks at it
  // first, since it may run after the client is gone.
  bool finished = false;
  long new_connections = 0;
  HttpResponseParser parser;
  SteadyTime started{};
  SteadyTime deadline{};
  SteadyTime connect_deadline{};
  Duration timeout{};
  Duration connect_timeout{};
  asio::steady_timer timer;
  std::string device_id;
  std::string url;
  bool post = false;
};

using ExchangePtr = std::shared_ptr<Exchange>;

bool is_would_block(const boost::system::error_code& ec) {
  return ec == asio::error::would_block || ec == asio::error::try_again;
}

// A reused connection that fails this way before any answer came was closed
// by the device while it sat idle.
bool is_dead_connection(const boost::system::error_code& ec) {
  return ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::error::connection_aborted;
}

std::string build_request(const PlainUrl& url, const FetchRequest& r) {
  std::string out;
  out.reserve(96 + url.target.size() + url.authority.size() +
              (r.post_body ? r.post_body->size() + 64 : 0) + r.auth.secret.size() * 2);
  out += r.post_body ? "POST " : "GET ";
  out += url.target;
  out += " HTTP/1.1\r\nHost: ";
  out += url.authority;
  out += "\r\nUser-Agent: edgepoll/0.1\r\nAccept: */*\r\n";
  switch (r.auth.kind) {
    case AuthKind::none:
      break;
    case AuthKind::basic:
      out += "Authorization: Basic ";
      out += base64_encode(r.auth.username + ':' + r.auth.secret);
      out += "\r\n";
      break;
    case AuthKind::bearer:
      out += "Authorization: Bearer ";
      out += r.auth.secret;
      out += "\r\n";
      break;
  }
  if (r.post_body) {
    out += "Content-Type: application/json\r\nContent-Length: ";
    out += std::to_string(r.post_body->size());
    out += "\r\n\r\n";
    out += *r.post_body;
  } else {
    out += "\r\n";
  }
  return out;
}

long to_ms(Duration d) {
  return static_cast<long>(duration_cast<milliseconds>(d).count());
}

}  // namespace

struct PlainHttpClient::Impl {
  Impl(asio::io_context& io, const FetcherOptions& options, FetcherStats& stats)
      : io(io), options(options), stats(stats), sweep_timer(io) {}

  ~Impl() {
    for (auto& [id, ex] : exchanges) abandon(*ex);
    exchanges.clear();
    idle.clear();  // closes the sockets
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  void fetch(RequestId id, const PlainUrl& url, const FetchRequest& r, FetchCallback done) {
    auto ex = std::make_shared<Exchange>(io);
    ex->id = id;
    ex->done = std::move(done);
    ex->endpoint = url.endpoint;
    ex->request = build_request(url, r);
    ex->parser.reset(r.max_body);
    ex->started = std::chrono::steady_clock::now();
    ex->timeout = std::max(r.timeout, Duration(milliseconds(1)));
    ex->connect_timeout = r.connect_timeout > Duration::zero()
                              ? std::min(r.connect_timeout, ex->timeout)
                              : ex->timeout;
    ex->deadline = ex->started + ex->timeout;
    ex->connect_deadline = ex->started + ex->connect_timeout;
    ex->device_id = r.device_id;
    ex->url = r.url;
    ex->post = r.post_body.has_value();
    exchanges.emplace(id, ex);

    starting = true;  // a failure now is reported from the loop (see fail)
    ex->connection = take_idle(ex->endpoint, ex->started);
    if (ex->connection) {
      ex->reused = true;
      arm_timer(ex, ex->deadline);
      send(ex);
    } else {
      arm_timer(ex, ex->connect_deadline);
      connect(ex);
    }
    starting = false;
  }

  bool cancel(RequestId id) {
    auto it = exchanges.find(id);
    if (it == exchanges.end()) return false;
    abandon(*it->second);
    exchanges.erase(it);
    return true;
  }

  // ---- connections ---------------------------------------------------------

  // A kept-alive connection to `endpoint`, if one is still good: not idle for
  // longer than the limit, and not closed (or written to) by the device
  // meanwhile, which one peek without waiting tells.
  std::unique_ptr<Connection> take_idle(const tcp::endpoint& endpoint, SteadyTime now) {
    auto it = idle.find(endpoint);
    if (it == idle.end()) return nullptr;
    auto& list = it->second;
    std::unique_ptr<Connection> found;
    while (!list.empty() && !found) {
      std::unique_ptr<Connection> c = std::move(list.back());
      list.pop_back();
      --idle_count;
      if (now - c->idle_since > options.max_idle_connection_age) continue;
      char byte = 0;
      const auto n = ::recv(c->socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) found = std::move(c);
    }
    if (list.empty()) idle.erase(it);
    return found;
  }

  void keep_idle(const tcp::endpoint& endpoint, std::unique_ptr<Connection> c) {
    auto& list = idle[endpoint];
    if (static_cast<long>(list.size()) >= options.max_cached_connections) return;  // closes it
    c->idle_since = std::chrono::steady_clock::now();
    list.push_back(std::move(c));
    ++idle_count;
    if (!sweep_armed) arm_sweep();
  }

  // Connections idle longer than the limit are closed: a device polled less
  // often than that, or gone from the config, does not keep its socket.
  void arm_sweep() {
    sweep_armed = true;
    sweep_timer.expires_after(options.max_idle_connection_age);
    // An expired wait may still be queued when the client goes: the token says so.
    sweep_timer.async_wait(
        [this, alive = std::weak_ptr<bool>(alive)](const boost::system::error_code& ec) {
          if (ec || alive.expired()) return;
          sweep_armed = false;
          const auto now = std::chrono::steady_clock::now();
          for (auto it = idle.begin(); it != idle.end();) {
            auto& list = it->second;
            const auto old = std::remove_if(list.begin(), list.end(), [&](const auto& c) {
              return now - c->idle_since > options.max_idle_connection_age;
            });
            idle_count -= static_cast<std::size_t>(list.end() - old);
            list.erase(old, list.end());
            it = list.empty() ? idle.erase(it) : std::next(it);
          }
          if (idle_count > 0) arm_sweep();
        });
  }

  void connect(const ExchangePtr& ex) {
    ex->connection = std::make_unique<Connection>(io);
    ex->connecting = true;
    ++ex->new_connections;
    auto& socket = ex->connection->socket;
    boost::system::error_code ec;
    socket.open(ex->endpoint.protocol(), ec);
    if (!ec) socket.non_blocking(true, ec);
    if (!ec) socket.set_option(tcp::no_delay(true), ec);
    if (ec) {  // out of descriptors, most likely
      fail(ex, TransferFailure::connect, fmt::format("socket: {}", ec.message()));
      return;
    }
    socket.async_connect(ex->endpoint, [this, ex](const boost::system::error_code& ec) {
      if (ex->finished) return;
      ex->connecting = false;
      if (ec) {
        fail(ex, TransferFailure::connect,
             fmt::format("connect to {}: {}", endpoint_text(ex->endpoint), ec.message()));
        return;
      }
      if (ex->connect_deadline < ex->deadline) arm_timer(ex, ex->deadline);
      send(ex);
    });
  }

  // ---- one exchange --------------------------------------------------------

  void arm_timer(const ExchangePtr& ex, SteadyTime at) {
    ex->timer.expires_at(at);
    ex->timer.async_wait([this, ex](const boost::system::error_code& ec) {
      if (ec || ex->finished) return;
      if (ex->connecting) {
        fail(ex, TransferFailure::timeout,
             fmt::format("connect to {} took longer than {} ms", endpoint_text(ex->endpoint),
                         to_ms(ex->connect_timeout)));
        return;
      }
      fail(ex, TransferFailure::timeout,
           fmt::format("no complete answer within {} ms", to_ms(ex->timeout)));
    });
  }

  void send(const ExchangePtr& ex) {
    auto& socket = ex->connection->socket;
    while (ex->sent < ex->request.size()) {
      boost::system::error_code ec;
      const std::size_t n = socket.write_some(
          asio::buffer(ex->request.data() + ex->sent, ex->request.size() - ex->sent), ec);
      if (is_would_block(ec)) {
        socket.async_wait(tcp::socket::wait_write, [this, ex](const boost::system::error_code& ec) {
          if (ex->finished) return;
          if (ec) return io_failed(ex, ec, "sending the request");
          send(ex);
        });
        return;
      }
      if (ec) return io_failed(ex, ec, "sending the request");
      ex->sent += n;
    }
    wait_answer(ex);
  }

  void wait_answer(const ExchangePtr& ex) {
    ex->connection->socket.async_wait(tcp::socket::wait_read,
                                      [this, ex](const boost::system::error_code& ec) {
                                        if (ex->finished) return;
                                        if (ec) return io_failed(ex, ec, "waiting for the answer");
                                        receive(ex);
                                      });
  }

  void receive(const ExchangePtr& ex) {
    auto& socket = ex->connection->socket;
    while (true) {
      boost::system::error_code ec;
      const std::size_t n = socket.read_some(asio::buffer(read_buffer), ec);
      if (is_would_block(ec)) return wait_answer(ex);
      if (ec == asio::error::eof) {
        if (ex->parser.nothing_received() && may_retry(*ex)) return retry(ex);
        ex->parser.on_close();
        return complete(ex);
      }
      if (ec) return io_failed(ex, ec, "reading the answer");
      const auto state = ex->parser.feed(std::string_view(read_buffer.data(), n));
      if (state == HttpResponseParser::State::done || state == HttpResponseParser::State::failed)
        return complete(ex);
    }
  }

  bool may_retry(const Exchange& ex) const { return ex.reused && !ex.retried; }

  // The kept-alive connection had died: once, the request goes on a new one.
  void retry(const ExchangePtr& ex) {
    ex->retried = true;
    ex->reused = false;
    ex->sent = 0;
    ex->parser.reset(ex->parser.max_body());
    ex->connection.reset();  // closes it: nothing else waits on it
    ex->connect_deadline =
        std::min(ex->deadline, std::chrono::steady_clock::now() + ex->connect_timeout);
    arm_timer(ex, ex->connect_deadline);
    connect(ex);
  }

  void io_failed(const ExchangePtr& ex, const boost::system::error_code& ec, const char* doing) {
    if (ex->parser.nothing_received() && is_dead_connection(ec) && may_retry(*ex)) return retry(ex);
    fail(ex, TransferFailure::reset, fmt::format("{}: {}", doing, ec.message()));
  }

  void complete(const ExchangePtr& ex) {
    auto& parser = ex->parser;
    if (parser.state() == HttpResponseParser::State::failed) {
      switch (parser.failure()) {
        case HttpResponseParser::Failure::too_large:
          return fail(ex, TransferFailure::too_large, parser.failure_reason());
        case HttpResponseParser::Failure::malformed:
          return fail(ex, TransferFailure::malformed, parser.failure_reason());
        case HttpResponseParser::Failure::truncated:
        case HttpResponseParser::Failure::none:
          return fail(ex, TransferFailure::reset, parser.failure_reason());
      }
    }
    if (parser.keep_alive())
      keep_idle(ex->endpoint, std::move(ex->connection));
    else
      ex->connection.reset();
    if (parser.status() >= 400) {
      return finish(ex, transfer_error(outcome(*ex, TransferFailure::none, {})), false);
    }
    FetchResponse response{parser.status(), std::move(parser.body()),
                           std::chrono::steady_clock::now() - ex->started, ex->new_connections};
    finish(ex, std::move(response), true);
  }

  TransferOutcome outcome(const Exchange& ex, TransferFailure failure, std::string detail) const {
    return TransferOutcome{
        failure, ex.parser.status(), ex.parser.max_body(), std::move(detail), ex.device_id, ex.url,
        ex.post};
  }

  void fail(const ExchangePtr& ex, TransferFailure failure, std::string detail) {
    ex->connection.reset();  // a failed exchange leaves its connection in no known state
    if (starting) {
      // fetch() is the caller, and callbacks never run inside it: the failure
      // is reported from the loop, and until then cancel() still takes it back.
      asio::post(io, [this, ex, failure, detail = std::move(detail)]() mutable {
        if (!ex->finished) fail(ex, failure, std::move(detail));
      });
      return;
    }
    finish(ex, transfer_error(outcome(*ex, failure, std::move(detail))), false);
  }

  void finish(const ExchangePtr& ex, Result<FetchResponse> result, bool ok) {
    ex->finished = true;
    ex->timer.cancel();
    exchanges.erase(ex->id);
    ++(ok ? stats.succeeded : stats.failed);
    FetchCallback done = std::move(ex->done);
    done(std::move(result));  // last: it may start or cancel requests
  }

  // The callback will not run: the exchange's connection and timer go.
  static void abandon(Exchange& ex) {
    ex.finished = true;
    ex.timer.cancel();
    ex.connection.reset();
  }

  static std::string endpoint_text(const tcp::endpoint& e) {
    return e.address().is_v6() ? fmt::format("[{}]:{}", e.address().to_string(), e.port())
                               : fmt::format("{}:{}", e.address().to_string(), e.port());
  }

  asio::io_context& io;
  const FetcherOptions options;
  FetcherStats& stats;
  std::unordered_map<RequestId, ExchangePtr> exchanges;
  std::unordered_map<tcp::endpoint, std::vector<std::unique_ptr<Connection>>, EndpointHash> idle;
  std::size_t idle_count = 0;
  bool starting = false;  // inside fetch()
  asio::steady_timer sweep_timer;
  bool sweep_armed = false;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
  // Every read lands here first, whichever connection it is on: the loop runs
  // one handler at a time, and the parser copies what it keeps.
  std::array<char, std::size_t{64} * 1024> read_buffer{};
};

PlainHttpClient::PlainHttpClient(asio::io_context& io, const FetcherOptions& options,
                                 FetcherStats& stats)
    : impl_(std::make_unique<Impl>(io, options, stats)) {}
PlainHttpClient::~PlainHttpClient() = default;

void PlainHttpClient::fetch(RequestId id, const PlainUrl& url, const FetchRequest& request,
                            FetchCallback done) {
  impl_->fetch(id, url, request, std::move(done));
}
bool PlainHttpClient::cancel(RequestId id) {
  return impl_->cancel(id);
}
std::size_t PlainHttpClient::in_flight() const {
  return impl_->exchanges.size();
}
std::size_t PlainHttpClient::idle_connections() const {
  return impl_->idle_count;
}

}  // namespace edgepoll::pollers::detail
