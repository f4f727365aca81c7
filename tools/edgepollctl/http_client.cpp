#include "http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace edgepoll::ctl {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;

Result<HttpReply> http_get(const std::string& host, std::uint16_t port, const std::string& target,
                           std::chrono::milliseconds timeout) {
  const std::string url = "http://" + host + ":" + std::to_string(port) + target;
  asio::io_context io;
  beast::tcp_stream stream(io);
  asio::ip::tcp::resolver resolver(io);
  beast::error_code ec;
  http::response<http::string_body> res;
  beast::flat_buffer buffer;
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, host);
  req.set(http::field::connection, "close");
  // Async with a deadline: a wedged daemon must not hang the operator's shell.
  stream.expires_after(timeout);
  resolver.async_resolve(host, std::to_string(port), [&](beast::error_code rec, auto results) {
    if (rec) return void(ec = rec);
    stream.async_connect(results, [&](beast::error_code cec, auto) {
      if (cec) return void(ec = cec);
      http::async_write(stream, req, [&](beast::error_code wec, std::size_t) {
        if (wec) return void(ec = wec);
        http::async_read(stream, buffer, res, [&](beast::error_code hec, std::size_t) { ec = hec; });
      });
    });
  });
  io.run();
  if (ec) {
    return make_error("ctl.health_unreachable", url + ": " + ec.message(), true,
                      "is edgepolld running? --health URL or the config's [health] names the endpoint");
  }
  return HttpReply{static_cast<int>(res.result_int()), std::move(res.body())};
}

}  // namespace edgepoll::ctl
