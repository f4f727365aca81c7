// The fetcher's plain-HTTP client against a scripted device of our own on a
// real loopback socket: what it sends, the framings device-sim does not use,
// and what happens to kept-alive connections the device closes.
#include <gtest/gtest.h>

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "edgepoll/pollers/http_fetcher.hpp"
#include "support/wait_for.hpp"

namespace edgepoll::pollers {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// What the device does with one request: the bytes it answers, and whether it
// closes the connection afterwards (without saying so in a header).
struct Answer {
  std::string bytes;
  bool close_after = false;
};

std::string ok(std::string_view body) {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
         std::string(body);
}

// A device on 127.0.0.1 that reads requests (head, and a body of its
// Content-Length) and answers each through `script`, on the test's io_context.
class ScriptedDevice {
 public:
  // connection: 0, 1, ... in accept order; nth: the request's number on it.
  using Script = std::function<Answer(const std::string& request, int connection, int nth)>;

  ScriptedDevice(asio::io_context& io, Script script)
      : io_(io),
        acceptor_(io, {asio::ip::make_address("127.0.0.1"), 0}),
        script_(std::move(script)) {
    accept();
  }

  std::string url(std::string_view path = "/devices/d") const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) +
           std::string(path);
  }

  const std::vector<std::string>& requests() const { return requests_; }
  int connections() const { return static_cast<int>(peers_.size()); }
  // Connections the client closed (the device read EOF on them).
  int closed_by_client() const { return closed_by_client_; }

 private:
  struct Peer {
    explicit Peer(asio::io_context& io) : socket(io) {}
    tcp::socket socket;
    std::string pending;
    std::array<char, 4096> buffer{};
    int index = 0;
    int served = 0;
    bool closed_by_us = false;
  };

  void accept() {
    auto peer = std::make_shared<Peer>(io_);
    acceptor_.async_accept(peer->socket, [this, peer](const boost::system::error_code& ec) {
      if (ec) return;
      peer->index = static_cast<int>(peers_.size());
      peers_.push_back(peer);
      read(peer);
      accept();
    });
  }

  void read(const std::shared_ptr<Peer>& peer) {
    peer->socket.async_read_some(asio::buffer(peer->buffer),
                                 [this, peer](const boost::system::error_code& ec, std::size_t n) {
                                   if (ec) {
                                     if (!peer->closed_by_us) ++closed_by_client_;
                                     return;
                                   }
                                   peer->pending.append(peer->buffer.data(), n);
                                   serve(peer);
                                 });
  }

  void serve(const std::shared_ptr<Peer>& peer) {
    const auto head_end = peer->pending.find("\r\n\r\n");
    if (head_end == std::string::npos) return read(peer);
    std::size_t length = 0;
    if (const auto at = peer->pending.find("Content-Length: ");
        at != std::string::npos && at < head_end)
      length = std::stoul(peer->pending.substr(at + 16));
    if (peer->pending.size() < head_end + 4 + length) return read(peer);
    const std::string request = peer->pending.substr(0, head_end + 4 + length);
    peer->pending.erase(0, request.size());
    requests_.push_back(request);
    const Answer answer = script_(request, peer->index, peer->served++);
    boost::system::error_code ec;
    asio::write(peer->socket, asio::buffer(answer.bytes), ec);
    if (answer.close_after) {
      peer->closed_by_us = true;
      peer->socket.close(ec);
      return;
    }
    serve(peer);
  }

  asio::io_context& io_;
  tcp::acceptor acceptor_;
  Script script_;
  std::vector<std::shared_ptr<Peer>> peers_;
  std::vector<std::string> requests_;
  int closed_by_client_ = 0;
};

class PlainHttpClientTest : public ::testing::Test {
 protected:
  template <class Pred>
  bool run_until(Pred done) {
    return edgepoll::testing::run_until(io_, done);
  }

  Result<FetchResponse> fetch(HttpFetcher& fetcher, FetchRequest r) {
    std::optional<Result<FetchResponse>> out;
    fetcher.fetch(r, [&](Result<FetchResponse> res) { out.emplace(std::move(res)); });
    EXPECT_TRUE(run_until([&] { return out.has_value(); })) << "no answer for " << r.url;
    if (!out) return make_error("test.no_answer", r.url);
    return std::move(*out);
  }

  Result<FetchResponse> get(const std::string& url) {
    FetchRequest r;
    r.url = url;
    r.device_id = "d";
    return fetch(fetcher_, r);
  }

  asio::io_context io_;
  HttpFetcher fetcher_{io_};
};

TEST_F(PlainHttpClientTest, SendsAPlainGetWithTheHostItWasGiven) {
  ScriptedDevice device(io_, [](const std::string&, int, int) { return Answer{ok("{}")}; });
  ASSERT_TRUE(get(device.url("/devices/d?x=1")).ok());
  ASSERT_EQ(device.requests().size(), 1u);
  const std::string& request = device.requests()[0];
  EXPECT_EQ(request.rfind("GET /devices/d?x=1 HTTP/1.1\r\n", 0), 0u) << request;
  const std::string host = device.url("").substr(7);
  EXPECT_NE(request.find("\r\nHost: " + host + "\r\n"), std::string::npos) << request;
  EXPECT_EQ(request.find("Authorization"), std::string::npos) << request;
}

TEST_F(PlainHttpClientTest, BasicCredentialsAndPostBodiesAreSentAsWritten) {
  ScriptedDevice device(io_, [](const std::string&, int, int) { return Answer{ok("{}")}; });
  FetchRequest r;
  r.url = device.url("/v3/kv/range");
  r.auth = {AuthKind::basic, "user", "pass"};
  r.post_body = R"({"key":"a2V5"})";
  ASSERT_TRUE(fetch(fetcher_, r).ok());
  ASSERT_EQ(device.requests().size(), 1u);
  const std::string& request = device.requests()[0];
  EXPECT_EQ(request.rfind("POST /v3/kv/range HTTP/1.1\r\n", 0), 0u) << request;
  EXPECT_NE(request.find("\r\nAuthorization: Basic dXNlcjpwYXNz\r\n"), std::string::npos)
      << request;
  EXPECT_NE(request.find("\r\nContent-Length: 14\r\n"), std::string::npos) << request;
  EXPECT_EQ(request.substr(request.size() - 14), R"({"key":"a2V5"})");
}

TEST_F(PlainHttpClientTest, AChunkedAnswerArrivesWholeAndKeepsTheConnection) {
  ScriptedDevice device(io_, [](const std::string&, int, int) {
    return Answer{
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
        "chunked\r\n\r\n7\r\n{\"temp\"\r\n5\r\n:21.5\r\n1\r\n}\r\n0\r\n\r\n"};
  });
  auto first = get(device.url());
  ASSERT_TRUE(first.ok()) << first.error().describe();
  EXPECT_EQ(first->body, R"({"temp":21.5})");
  auto second = get(device.url());
  ASSERT_TRUE(second.ok()) << second.error().describe();
  EXPECT_EQ(first->new_connections, 1);
  EXPECT_EQ(second->new_connections, 0);
  EXPECT_EQ(device.connections(), 1);
}

TEST_F(PlainHttpClientTest, AKeptAliveConnectionTheDeviceClosedIsReplaced) {
  // The device answers and then closes the connection while it is idle.
  ScriptedDevice device(io_, [](const std::string&, int, int) { return Answer{ok("{}"), true}; });
  ASSERT_TRUE(get(device.url()).ok());
  auto second = get(device.url());
  ASSERT_TRUE(second.ok()) << second.error().describe();
  EXPECT_EQ(second->new_connections, 1);
  EXPECT_EQ(device.requests().size(), 2u);
}

TEST_F(PlainHttpClientTest, ARequestTheDeviceDroppedOnAKeptAliveConnectionIsSentOnceMore) {
  // The device takes the second request on its first connection and closes
  // without an answer (it had timed the connection out just then).
  ScriptedDevice device(io_, [](const std::string&, int connection, int nth) {
    if (connection == 0 && nth == 1) return Answer{"", true};
    return Answer{ok("{}")};
  });
  ASSERT_TRUE(get(device.url()).ok());
  auto second = get(device.url());
  ASSERT_TRUE(second.ok()) << second.error().describe();
  EXPECT_EQ(second->new_connections, 1);
  EXPECT_EQ(device.connections(), 2);
  EXPECT_EQ(device.requests().size(), 3u);
}

TEST_F(PlainHttpClientTest, ButOnlyOnce) {
  // After its first answer the device drops every request: the retry on a new
  // connection fails too, and the fetch ends there as a reset.
  ScriptedDevice device(io_, [](const std::string&, int connection, int nth) {
    if (connection == 0 && nth == 0) return Answer{ok("{}")};
    return Answer{"", true};
  });
  ASSERT_TRUE(get(device.url()).ok());
  auto second = get(device.url());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, "pollers.http.reset");
  EXPECT_TRUE(second.error().retryable);
  EXPECT_EQ(device.requests().size(), 3u);  // the first, the dropped one, its one retry
  // A fresh connection that closes without an answer is not retried at all.
  auto third = get(device.url());
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(device.requests().size(), 4u);
}

TEST_F(PlainHttpClientTest, AnAnswerThatIsNotHttpIsAProtocolError) {
  ScriptedDevice device(
      io_, [](const std::string&, int, int) { return Answer{"SSH-2.0-OpenSSH_9.2\r\n\r\n"}; });
  auto r = get(device.url());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "pollers.http.protocol");
  EXPECT_TRUE(r.error().retryable);
  EXPECT_NE(r.error().message.find("not an HTTP/1.x status line"), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("device \"d\""), std::string::npos) << r.error().message;
}

TEST_F(PlainHttpClientTest, AnAnswerFramedByTheCloseEndsThere) {
  ScriptedDevice device(io_, [](const std::string&, int, int) {
    return Answer{"HTTP/1.0 200 OK\r\n\r\n{\"a\":1}", true};
  });
  auto r = get(device.url());
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->body, R"({"a":1})");
}

TEST_F(PlainHttpClientTest, IdleConnectionsOlderThanTheLimitAreClosed) {
  FetcherOptions options;
  options.max_idle_connection_age = 200ms;
  HttpFetcher fetcher(io_, options);
  ScriptedDevice device(io_, [](const std::string&, int, int) { return Answer{ok("{}")}; });
  FetchRequest r;
  r.url = device.url();
  ASSERT_TRUE(fetch(fetcher, r).ok());
  EXPECT_EQ(device.closed_by_client(), 0);
  EXPECT_TRUE(run_until([&] { return device.closed_by_client() == 1; }))
      << "the idle connection was kept past max_idle_connection_age";
}

TEST_F(PlainHttpClientTest, AHostNameGoesThroughLibcurl) {
  ScriptedDevice device(io_, [](const std::string&, int, int) { return Answer{ok("{}")}; });
  const std::string url = device.url();
  auto r = get("http://localhost" + url.substr(url.rfind(':')));
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(fetcher_.pools_in_use(), 1u);
  ASSERT_TRUE(get(url).ok());
  EXPECT_EQ(fetcher_.pools_in_use(), 1u);  // the numeric URL did not add one
}

}  // namespace
}  // namespace edgepoll::pollers
