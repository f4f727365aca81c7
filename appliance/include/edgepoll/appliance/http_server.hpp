#pragma once
// A small HTTP/1.1 server (Boost.Beast) for the health endpoint: GET only,
// keep-alive, bounded request size and idle timeout. A plain client of the
// io_context: the supervised HealthEndpoint owns one.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "edgepoll/supervision/result.hpp"

namespace edgepoll::appliance {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// Called on an io_context thread for every request; must not block.
using HttpHandler = std::function<HttpResponse(const std::string& method, const std::string& target)>;
// The same for an answer that comes later (after a round trip through the
// runtime): `respond` may be called once, from any thread.
using HttpRespond = std::function<void(HttpResponse)>;
using AsyncHttpHandler = std::function<void(const std::string& method, const std::string& target, HttpRespond respond)>;

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, HttpHandler handler);
  HttpServer(boost::asio::io_context& io, AsyncHttpHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts accepting; port 0 picks a free port. Errors name the address.
  Result<std::uint16_t> start(const std::string& address, std::uint16_t port);
  void stop();

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace edgepoll::appliance
