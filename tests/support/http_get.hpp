#pragma once
// A blocking HTTP/1.1 GET over a real socket, for tests of HTTP endpoints.
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

namespace edgepoll::testing {

struct HttpResult {
  int status = 0;  // 0 when nothing answered
  std::string body;
};

inline HttpResult http_get(const std::string& host, unsigned short port, const std::string& target) {
  namespace asio = boost::asio;
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  boost::system::error_code ec;
  s.connect({asio::ip::make_address(host), port}, ec);
  if (ec) return {};
  const std::string req = "GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
  asio::write(s, asio::buffer(req), ec);
  std::string raw;
  char buf[8192];
  while (!ec) {
    const auto n = s.read_some(asio::buffer(buf), ec);
    raw.append(buf, n);
  }
  HttpResult r;
  if (raw.size() < 12) return r;
  r.status = std::stoi(raw.substr(9, 3));
  const auto body = raw.find("\r\n\r\n");
  if (body != std::string::npos) r.body = raw.substr(body + 4);
  return r;
}

}  // namespace edgepoll::testing
