#include "edgepoll/appliance/http_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

namespace edgepoll::appliance {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
constexpr auto kIdleTimeout = std::chrono::seconds(30);
constexpr std::size_t kMaxRequestBytes = std::size_t{16} * 1024;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::weak_ptr<AsyncHttpHandler> handler)
      : stream_(std::move(socket)), handler_(std::move(handler)) {}
  void start() { read(); }

 private:
  void read() {
    request_ = {};
    parser_.emplace();
    parser_->header_limit(kMaxRequestBytes);
    parser_->body_limit(kMaxRequestBytes);
    stream_.expires_after(kIdleTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }
  void on_read(beast::error_code ec) {
    if (ec) return close();  // closed, timed out or malformed: nothing to answer
    request_ = parser_->release();
    if (request_.method() != http::verb::get && request_.method() != http::verb::head) {
      return write({405, "text/plain; charset=utf-8", "only GET is served here\n"});
    }
    // A keep-alive connection can outlive its server (a restarted health
    // endpoint): the handler belongs to the server, so the session asks for it.
    auto handler = handler_.lock();
    if (!handler) return close();
    (*handler)(std::string(request_.method_string()), std::string(request_.target()),
                [self = shared_from_this()](HttpResponse r) {
                  // Back to this session's strand, whichever thread answered.
                  asio::post(self->stream_.get_executor(), [self, r = std::move(r)]() mutable { self->write(std::move(r)); });
                });
  }
  void write(HttpResponse r) {
    auto res = std::make_shared<http::response<http::string_body>>(http::status(r.status), request_.version());
    res->set(http::field::server, "edgepoll");
    res->set(http::field::content_type, r.content_type);
    res->keep_alive(request_.keep_alive());
    res->body() = std::move(r.body);
    res->prepare_payload();
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code wec, std::size_t) {
      if (wec || !res->keep_alive()) return self->close();
      self->read();
    });
  }
  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::request<http::string_body> request_;
  std::weak_ptr<AsyncHttpHandler> handler_;
};
}  // namespace

struct HttpServer::State : std::enable_shared_from_this<HttpServer::State> {
  State(asio::io_context& io, AsyncHttpHandler h)
      : io(io), acceptor(asio::make_strand(io)), handler(std::make_shared<AsyncHttpHandler>(std::move(h))) {}
  void accept() {
    // Each connection gets its own strand, so sessions never share state.
    acceptor.async_accept(asio::make_strand(io),
                          [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
                            if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
                            if (!ec) std::make_shared<Session>(std::move(socket), std::weak_ptr(self->handler))->start();
                            self->accept();
                          });
  }
  void close() {
    beast::error_code ignored;
    acceptor.close(ignored);
    handler.reset();  // sessions still open answer nothing more
  }
  asio::io_context& io;
  tcp::acceptor acceptor;
  std::shared_ptr<AsyncHttpHandler> handler;
};

HttpServer::HttpServer(asio::io_context& io, AsyncHttpHandler handler)
    : state_(std::make_shared<State>(io, std::move(handler))) {}

HttpServer::HttpServer(asio::io_context& io, HttpHandler handler)
    : HttpServer(io, AsyncHttpHandler([h = std::move(handler)](const std::string& method, const std::string& target,
                                                                HttpRespond respond) { respond(h(method, target)); })) {}

HttpServer::~HttpServer() { stop(); }

Result<std::uint16_t> HttpServer::start(const std::string& address, std::uint16_t port) {
  beast::error_code ec;
  const auto ip = asio::ip::make_address(address, ec);
  if (ec) {
    return make_error("health.bad_address", "listen address '" + address + "' is not an IP address", false,
                      "use e.g. 127.0.0.1 or 0.0.0.0");
  }
  const tcp::endpoint endpoint(ip, port);
  auto& a = state_->acceptor;
  a.open(endpoint.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(endpoint, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    a.close();
    return make_error("health.listen_failed",
                      "cannot listen on " + address + ":" + std::to_string(port) + ": " + ec.message(),
                      /*retryable=*/true, "is another process using the port?");
  }
  const auto bound = a.local_endpoint(ec).port();
  asio::post(a.get_executor(), [s = state_] { s->accept(); });
  return bound;
}

void HttpServer::stop() {
  // On the loop's thread (a process stopping or killed: the daemon runs one
  // thread on its io_context, so no handler of the acceptor runs meanwhile)
  // the port is released now, before the supervisor starts the replacement
  // that binds it again; from another thread, on the acceptor's strand.
  if (state_->io.get_executor().running_in_this_thread()) return state_->close();
  asio::post(state_->acceptor.get_executor(), [s = state_] { s->close(); });
}

}  // namespace edgepoll::appliance
