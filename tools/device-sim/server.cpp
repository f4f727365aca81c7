#include "server.hpp"

#include <cmath>
#include <functional>
#include <iostream>
#include <map>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include "awaitable.hpp"

namespace edgepoll::devicesim {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      return false;
  return true;
}

std::string normal_body(const std::string& id, const Decision& d) {
  // Values drift with time, each device on its own phase.
  const double phase = static_cast<double>(std::hash<std::string>{}(id) % 1000) / 100.0;
  const double t = d.uptime_s / 30.0 + phase;
  return fmt::format(
      R"({{"id":"{}","seq":{},"uptime_s":{:.1f},"temperature":{:.2f},"humidity":{:.1f},)"
      R"("pressure":{:.1f},"status":"ok","online":true}})",
      id, d.seq, d.uptime_s, 20.0 + 5.0 * std::sin(t), 50.0 + 10.0 * std::cos(t),
      1013.0 + 3.0 * std::sin(t / 3.0));
}

// Bodies of "huge" devices are made once per size and shared by all requests.
std::shared_ptr<const std::string> huge_body(std::size_t size) {
  static std::mutex mutex;
  static std::map<std::size_t, std::shared_ptr<const std::string>> cache;
  std::lock_guard lock(mutex);
  auto& slot = cache[size];
  if (!slot) {
    std::string s = R"({"pad":")";
    if (size > s.size() + 2) s.append(size - s.size() - 2, 'x');
    s += "\"}";
    s.resize(size);
    slot = std::make_shared<const std::string>(std::move(s));
  }
  return slot;
}

struct Reply {
  http::status status = http::status::ok;
  std::string body;
  std::shared_ptr<const std::string> shared_body;  // huge bodies, not copied
  enum class Action { respond, reset, hang } action = Action::respond;
  std::chrono::nanoseconds delay{};
};

bool authorised(const Behaviour& b, const http::request<http::string_body>& req) {
  const auto header = req[http::field::authorization];
  const std::string expected =
      (b.kind == Kind::bearer ? "Bearer " : "Basic ") + b.credential;
  return header == expected;
}

Reply device_reply(Simulator& sim, const std::string& id,
                   const http::request<http::string_body>& req) {
  Reply r;
  const Decision d = sim.on_request(id);
  const Behaviour& b = *d.leaf;
  switch (b.kind) {
    case Kind::normal: r.body = normal_body(id, d); break;
    case Kind::slow: r.body = normal_body(id, d); r.delay = b.latency; break;
    case Kind::garbage: r.body = std::string("\x89PNG\r\n\x1a\n<html>\xff\xfe oops }{ ,,"); break;
    case Kind::truncated: {
      r.body = normal_body(id, d);
      r.body.resize(r.body.size() / 2);
      break;
    }
    case Kind::nonutf8: r.body = "{\"id\":\"\xff\xfe\xfd\",\"temperature\":21.5}"; break;
    case Kind::wrongtype:
      r.body = R"({"id":7,"temperature":"hot","humidity":null,"pressure":[1],"online":"yes"})";
      break;
    case Kind::huge: r.shared_body = huge_body(b.size); break;
    case Kind::status:
      r.status = static_cast<http::status>(b.status);
      r.body = fmt::format(R"({{"error":"simulated status {}"}})", b.status);
      break;
    case Kind::reset: r.action = Reply::Action::reset; break;
    case Kind::hang: r.action = Reply::Action::hang; break;
    case Kind::bearer:
    case Kind::basic:
      if (authorised(b, req)) {
        r.body = normal_body(id, d);
      } else {
        r.status = http::status::unauthorized;
        r.body = R"({"error":"unauthorised"})";
      }
      break;
    case Kind::flap:
    case Kind::schedule:  // resolved by Behaviour::at; never a leaf
      r.status = http::status::internal_server_error;
      break;
  }
  return r;
}

Reply route(Simulator& sim, const http::request<http::string_body>& req) {
  std::string_view target = req.target();
  target = target.substr(0, target.find('?'));
  Reply r;
  if (target.starts_with("/devices/") && req.method() == http::verb::get) {
    const std::string id(target.substr(9));
    if (valid_id(id)) return device_reply(sim, id, req);
  } else if (target == "/stats" || target == "/stats/total") {
    r.body = sim.stats_json(target == "/stats/total");
    return r;
  } else if (target.starts_with("/control/") && req.method() == http::verb::post) {
    const std::string id(target.substr(9));
    auto b = Behaviour::parse(req.body());
    if (valid_id(id) && b) {
      sim.control(id, std::make_shared<const Behaviour>(std::move(b).value()));
      r.body = R"({"ok":true})";
    } else {
      r.status = http::status::bad_request;
      r.body = b ? R"({"error":"bad id"})" : b.error().describe();
    }
    return r;
  }
  r.status = http::status::not_found;
  r.body = R"({"error":"not found"})";
  return r;
}

template <class Body>
asio::awaitable<bool> send(beast::tcp_stream& stream, http::response<Body>& res) {
  res.prepare_payload();
  stream.expires_after(std::chrono::seconds(60));
  auto [ec, n] = co_await http::async_write(stream, res, use_tuple);
  co_return !ec;
}

asio::awaitable<void> session(tcp::socket socket, Simulator& sim, ServerOptions options) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(std::uint64_t{64} * 1024);  // a request body is never legitimately large here
    stream.expires_after(options.idle_timeout);
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_tuple);
    if (ec) break;
    const auto& req = parser.get();
    Reply reply = route(sim, req);
    if (reply.action == Reply::Action::reset) {
      // SO_LINGER 0 makes close() send RST: the client sees "connection reset".
      boost::system::error_code ignored;
      stream.socket().set_option(tcp::socket::linger(true, 0), ignored);
      stream.socket().close(ignored);
      co_return;
    }
    if (reply.action == Reply::Action::hang) {
      // Never answer; keep reading so that the client's close ends this session.
      stream.expires_after(options.hang_limit);
      char sink[4096];
      for (;;) {
        auto [rec, got] = co_await stream.async_read_some(asio::buffer(sink), use_tuple);
        if (rec) co_return;
      }
    }
    if (reply.delay > std::chrono::nanoseconds::zero()) {
      asio::steady_timer timer(stream.get_executor());
      timer.expires_after(reply.delay);
      co_await timer.async_wait(use_tuple);
    }
    bool ok;
    if (reply.shared_body) {
      http::response<http::span_body<const char>> res{reply.status, req.version()};
      res.set(http::field::content_type, "application/json");
      res.body() = {reply.shared_body->data(), reply.shared_body->size()};
      res.keep_alive(req.keep_alive());
      ok = co_await send(stream, res);
    } else {
      http::response<http::string_body> res{reply.status, req.version()};
      res.set(http::field::content_type, "application/json");
      res.body() = std::move(reply.body);
      res.keep_alive(req.keep_alive());
      ok = co_await send(stream, res);
    }
    if (!ok || !req.keep_alive()) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> accept_loop(tcp::acceptor acceptor, Simulator& sim, ServerOptions options) {
  auto& io = static_cast<asio::io_context&>(acceptor.get_executor().context());
  for (;;) {
    tcp::socket socket(asio::make_strand(io));
    auto [ec] = co_await acceptor.async_accept(socket, use_tuple);
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) {
      // e.g. out of file descriptors: pause instead of spinning, keep serving.
      std::cerr << "device-sim: accept: " << ec.message() << '\n';
      asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(50));
      co_await pause.async_wait(use_tuple);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto ex = socket.get_executor();
    asio::co_spawn(ex, session(std::move(socket), sim, options), [](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        std::cerr << "device-sim: connection ended by exception: " << x.what() << '\n';
      }
    });
  }
}

}  // namespace

tcp::endpoint listen(asio::io_context& io, tcp::endpoint endpoint, Simulator& sim,
                     ServerOptions options) {
  tcp::acceptor acceptor(io);
  acceptor.open(endpoint.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen(asio::socket_base::max_listen_connections);
  auto bound = acceptor.local_endpoint();
  asio::co_spawn(io, accept_loop(std::move(acceptor), sim, options), asio::detached);
  return bound;
}

}  // namespace edgepoll::devicesim
