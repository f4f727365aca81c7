// HttpFetcher against a real device-sim child process over real sockets: one
// test per device behaviour, plus 200 concurrent fetches of good and bad devices.
// Every test runs twice: through the plain-HTTP client, which serves these
// numeric http:// URLs in production, and with everything sent through libcurl.
#include "edgepoll/pollers/http_fetcher.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "edgepoll/pollers/decoder.hpp"
#include "sim_process.hpp"
#include "support/wait_for.hpp"

namespace edgepoll::pollers {
namespace {

using namespace std::chrono_literals;
using testing::SimProcess;

class HttpFetcherTest : public ::testing::TestWithParam<bool> {
 protected:
  static void SetUpTestSuite() {
    sim_ = new SimProcess({"--device", "slow-*=slow:5s", "--device", "garbage-*=garbage",
                           "--device", "huge-*=huge:2M", "--device", "err-*=status:500",
                           "--device", "reset-*=reset", "--device", "hang-*=hang",
                           "--device", "flap-*=flap:300ms", "--device", "auth-*=bearer:s3cret"});
  }
  static void TearDownTestSuite() {
    delete sim_;
    sim_ = nullptr;
  }

  FetchRequest request(const std::string& device, Duration timeout = 3s) {
    FetchRequest r;
    r.url = sim_->url(device);
    r.timeout = timeout;
    r.device_id = device;
    return r;
  }

  // Runs the loop until `done` or a generous deadline (a hung fetcher fails the
  // test instead of hanging it).
  template <class Pred>
  bool run_until(Pred done, std::chrono::seconds limit = 20s) {
    return edgepoll::testing::run_until(io_, done, limit);
  }

  Result<FetchResponse> fetch(const FetchRequest& r) {
    std::optional<Result<FetchResponse>> out;
    fetcher_.fetch(r, [&](Result<FetchResponse> res) { out.emplace(std::move(res)); });
    EXPECT_TRUE(run_until([&] { return out.has_value(); })) << "no answer for " << r.url;
    if (!out) return make_error("test.no_answer", r.url);
    return std::move(*out);
  }

  // The options of the client under test (the parameter: the plain client or not).
  FetcherOptions options() const {
    FetcherOptions o;
    o.plain_http_client = GetParam();
    return o;
  }

  static SimProcess* sim_;
  boost::asio::io_context io_;
  HttpFetcher fetcher_{io_, options()};
};
SimProcess* HttpFetcherTest::sim_ = nullptr;

const std::vector<MetricMapping> kMapping = {
    {"/temperature", "temperature", MetricType::number, "degC"},
    {"/online", "online", MetricType::boolean, ""}};

TEST_P(HttpFetcherTest, NormalDeviceAnswersJsonThatDecodes) {
  auto r = fetch(request("n1"));
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->status, 200);
  auto decoded = Decoder("n1", kMapping).decode(r->body);
  ASSERT_TRUE(decoded.ok()) << decoded.error().describe();
  EXPECT_EQ(decoded->readings.size(), 2u);
}

TEST_P(HttpFetcherTest, SecondPollReusesTheKeptAliveConnection) {
  auto first = fetch(request("n2"));
  auto second = fetch(request("n2"));
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->new_connections, 1);
  EXPECT_EQ(second->new_connections, 0);
}

TEST_P(HttpFetcherTest, DevicesOfOneHostShareOnePoolAndMeetTheirConnectionsAgain) {
  boost::asio::io_context io;
  FetcherOptions options = this->options();
  options.connection_pools = 8;
  HttpFetcher fetcher(io, options);
  std::map<std::string, long> connects;
  auto poll_all = [&] {
    connects.clear();
    for (int i = 0; i < 20; ++i) {
      const std::string id = "pool-" + std::to_string(i);
      fetcher.fetch(request(id), [&connects, id](Result<FetchResponse> r) {
        connects[id] = r ? r->new_connections : -1;
      });
    }
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (connects.size() < 20 && std::chrono::steady_clock::now() < deadline) io.run_one_for(50ms);
    return connects.size() == 20;
  };
  ASSERT_TRUE(poll_all());
  ASSERT_TRUE(poll_all());
  for (const auto& [id, n] : connects) EXPECT_EQ(n, 0) << id << " did not reuse its connection";
  EXPECT_EQ(fetcher.pools_in_use(), GetParam() ? 0u : 1u);  // the plain client uses no libcurl pool
}

TEST_P(HttpFetcherTest, ManyHostsAreSpreadOverThePools) {
  // 64 origins (closed ports: the answers do not matter here, only where the
  // requests went) over 8 pools: several pools, never more than 8.
  boost::asio::io_context io;
  FetcherOptions options = this->options();
  options.connection_pools = 8;
  HttpFetcher fetcher(io, options);
  int answered = 0;
  for (int port = 1; port <= 64; ++port) {
    FetchRequest r;
    r.url = "http://127.0.0.1:" + std::to_string(port) + "/devices/x";
    r.timeout = 1s;
    fetcher.fetch(r, [&](Result<FetchResponse>) { ++answered; });
  }
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (answered < 64 && std::chrono::steady_clock::now() < deadline) io.run_one_for(50ms);
  EXPECT_EQ(answered, 64);
  if (GetParam()) {
    EXPECT_EQ(fetcher.pools_in_use(), 0u);  // numeric http:// URLs never reach libcurl
  } else {
    EXPECT_GT(fetcher.pools_in_use(), 4u);
    EXPECT_LE(fetcher.pools_in_use(), 8u);
  }
}

TEST_P(HttpFetcherTest, SlowDeviceTimesOutAsRetryableError) {
  auto r = fetch(request("slow-1", 300ms));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "pollers.http.timeout");
  EXPECT_TRUE(r.error().retryable);
  EXPECT_NE(r.error().message.find("slow-1"), std::string::npos);
}

TEST_P(HttpFetcherTest, GarbageBodyArrivesAndTheDecoderRejectsIt) {
  auto r = fetch(request("garbage-1"));
  ASSERT_TRUE(r.ok());
  auto decoded = Decoder("garbage-1", kMapping).decode(r->body);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code, "pollers.decode.non_utf8");
}

TEST_P(HttpFetcherTest, HugeBodyIsCutAtTheCap) {
  auto req = request("huge-1");
  req.max_body = 64 * 1024;
  auto r = fetch(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "pollers.http.too_large");
  EXPECT_FALSE(r.error().retryable);
  // Under the cap the same device is fine.
  req.max_body = 4 << 20;
  auto whole = fetch(req);
  ASSERT_TRUE(whole.ok()) << whole.error().describe();
  EXPECT_EQ(whole->body.size(), 2u << 20);
}

TEST_P(HttpFetcherTest, Http500IsARetryableStatusError) {
  auto r = fetch(request("err-1"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "pollers.http.status");
  EXPECT_TRUE(r.error().retryable);
  EXPECT_NE(r.error().message.find("500"), std::string::npos);
}

TEST_P(HttpFetcherTest, ConnectionResetIsARetryableError) {
  auto r = fetch(request("reset-1"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "pollers.http.reset");
  EXPECT_TRUE(r.error().retryable);
}

TEST_P(HttpFetcherTest, HangingDeviceTimesOut) {
  auto r = fetch(request("hang-1", 300ms));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "pollers.http.timeout");
  EXPECT_EQ(fetcher_.in_flight(), 0u);
}

TEST_P(HttpFetcherTest, FlappingDeviceAlternatesBetweenUpAndDown) {
  // Polls every 50 ms until both an up->down and a down->up change were seen.
  int ups = 0, downs = 0, changes = 0;
  std::optional<bool> last;
  boost::asio::steady_timer timer(io_);
  std::function<void()> poll = [&] {
    fetcher_.fetch(request("flap-1", 1s), [&](Result<FetchResponse> r) {
      const bool up = r.ok();
      up ? ++ups : ++downs;
      if (!up) {
        EXPECT_EQ(r.error().code, "pollers.http.reset");
      }
      if (last && *last != up) ++changes;
      last = up;
      if (changes < 3) {
        timer.expires_after(50ms);
        timer.async_wait([&](auto) { poll(); });
      }
    });
  };
  poll();
  ASSERT_TRUE(run_until([&] { return changes >= 3; }, 30s)) << ups << " up, " << downs << " down";
  EXPECT_GT(ups, 0);
  EXPECT_GT(downs, 0);
}

TEST_P(HttpFetcherTest, ConnectionRefusedIsARetryableError) {
  // A port that was free a moment ago: nobody listens there.
  boost::asio::ip::tcp::acceptor probe(io_, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const auto port = probe.local_endpoint().port();
  probe.close();
  FetchRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(port) + "/devices/x";
  auto r = fetch(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "pollers.http.connect_refused");
  EXPECT_TRUE(r.error().retryable);
}

// libcurl 7.88 closes a socket whose connect failed with a bare close(),
// skipping the close callback; the next socket gets the same number. The
// fetcher must neither close that new socket (the poll after a refused one
// failed to connect) nor, later, whatever else the process opened there.
unsigned short refused_port(boost::asio::io_context& io) {
  boost::asio::ip::tcp::acceptor probe(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const auto port = probe.local_endpoint().port();
  probe.close();
  return port;
}

TEST_P(HttpFetcherTest, APollAfterARefusedOneConnectsOnTheReusedDescriptorNumber) {
  FetchRequest refused;
  refused.url = "http://127.0.0.1:" + std::to_string(refused_port(io_)) + "/devices/x";
  for (int i = 0; i < 20; ++i) {
    ASSERT_FALSE(fetch(refused).ok());
    auto good = fetch(request("good-" + std::to_string(i)));
    ASSERT_TRUE(good.ok()) << "poll " << i << " after a refused one: " << good.error().describe();
  }
}

TEST_P(HttpFetcherTest, ADescriptorLibcurlClosedBehindItsBackIsNeverClosedAgain) {
  std::vector<int> others;  // what the rest of the process opens meanwhile
  {
    HttpFetcher fetcher(io_, options());
    FetchRequest refused;
    refused.url = "http://127.0.0.1:" + std::to_string(refused_port(io_)) + "/devices/x";
    for (int i = 0; i < 5; ++i) {
      std::optional<Result<FetchResponse>> out;
      fetcher.fetch(refused, [&](Result<FetchResponse> r) { out.emplace(std::move(r)); });
      ASSERT_TRUE(run_until([&] { return out.has_value(); }));
      ASSERT_FALSE(out->ok());
      const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);  // takes the freed number
      ASSERT_GE(fd, 0);
      others.push_back(fd);
    }
  }  // the fetcher and its pools go
  for (int fd : others) {
    EXPECT_NE(::fcntl(fd, F_GETFD), -1) << "descriptor " << fd << " was closed by the fetcher";
    ::close(fd);
  }
}

TEST_P(HttpFetcherTest, BearerTokenComesFromItsFile) {
  const auto dir = std::filesystem::temp_directory_path() / ("pollers-auth-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "good") << "s3cret\n";
  std::ofstream(dir / "bad") << "wrong\n";
  auto good = load_auth({AuthKind::bearer, "", "", (dir / "good").string()}, "auth-1");
  auto bad = load_auth({AuthKind::bearer, "", "", (dir / "bad").string()}, "auth-1");
  ASSERT_TRUE(good.ok() && bad.ok());
  auto req = request("auth-1");
  req.auth = *good;
  EXPECT_TRUE(fetch(req).ok());
  req.auth = *bad;
  auto denied = fetch(req);
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().code, "pollers.http.status");
  EXPECT_FALSE(denied.error().retryable);  // 401 does not heal by itself
  std::filesystem::remove_all(dir);
}

TEST_P(HttpFetcherTest, BadUrlIsANonRetryableError) {
  FetchRequest req;
  req.url = "gopher://127.0.0.1/x";
  auto r = fetch(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "pollers.http.bad_url");
  EXPECT_FALSE(r.error().retryable);
}

TEST_P(HttpFetcherTest, CancelledRequestNeverCallsBack) {
  // A device of our own that reads the request and never answers, so that the
  // test sees the request arrive and then the connection close, instead of
  // running the loop for a while and hoping.
  namespace ip = boost::asio::ip;
  ip::tcp::acceptor device(io_, {ip::make_address("127.0.0.1"), 0});
  ip::tcp::socket peer(io_);
  std::string received;
  std::array<char, 4096> buffer{};
  bool closed = false;
  std::function<void()> read_more = [&] {
    peer.async_read_some(boost::asio::buffer(buffer), [&](const boost::system::error_code& ec, std::size_t n) {
      if (ec) {
        closed = true;  // EOF or reset: the fetcher let go of the connection
        return;
      }
      received.append(buffer.data(), n);
      read_more();
    });
  };
  device.async_accept(peer, [&](const boost::system::error_code& ec) {
    if (!ec) read_more();
  });
  FetchRequest r;
  r.url = "http://127.0.0.1:" + std::to_string(device.local_endpoint().port()) + "/devices/silent";
  r.timeout = 5s;
  r.device_id = "silent";
  bool called = false;
  const auto id = fetcher_.fetch(r, [&](auto) { called = true; });
  ASSERT_TRUE(run_until([&] { return received.find("\r\n\r\n") != std::string::npos; }, 10s))
      << "the request never reached the device";
  fetcher_.cancel(id);
  EXPECT_EQ(fetcher_.in_flight(), 0u);
  ASSERT_TRUE(run_until([&] { return closed; }, 10s)) << "the cancelled transfer kept its connection";
  EXPECT_FALSE(called);
}

TEST_P(HttpFetcherTest, TwoHundredConcurrentFetchesEveryGoodDeviceSucceeds) {
  // 190 good devices and 10 bad ones (garbage, hang, reset) all at once.
  std::vector<std::string> bad = {"garbage-a", "garbage-b", "garbage-c", "hang-a", "hang-b",
                                  "hang-c",    "reset-a",   "reset-b",   "reset-c", "err-a"};
  std::map<std::string, std::optional<Result<FetchResponse>>> results;
  auto start = [&](const std::string& id) {
    fetcher_.fetch(request(id, 2s), [&results, id](Result<FetchResponse> r) {
      results[id].emplace(std::move(r));
    });
  };
  for (int i = 0; i < 190; ++i) {
    start("good-" + std::to_string(i));
    if (i % 19 == 0) start(bad[i / 19]);
  }
  EXPECT_EQ(fetcher_.in_flight(), 200u);
  ASSERT_TRUE(run_until([&] { return results.size() == 200; }, 30s)) << results.size();
  const Decoder decoder("any", kMapping);
  for (auto& [id, r] : results) {
    ASSERT_TRUE(r.has_value());
    if (id.rfind("good-", 0) == 0) {
      ASSERT_TRUE(r->ok()) << id << ": " << r->error().describe();
      EXPECT_TRUE(decoder.decode((*r)->body).ok()) << id;
    } else if (id.rfind("garbage-", 0) == 0) {
      ASSERT_TRUE(r->ok());
      EXPECT_FALSE(decoder.decode((*r)->body).ok()) << id;
    } else {
      EXPECT_FALSE(r->ok()) << id;
    }
  }
  EXPECT_EQ(fetcher_.in_flight(), 0u);
  EXPECT_TRUE(sim_->alive());
}

TEST_P(HttpFetcherTest, DestroyingTheFetcherWithRequestsInFlightIsSafe) {
  {
    boost::asio::io_context io;
    auto fetcher = std::make_unique<HttpFetcher>(io, options());
    bool called = false;
    for (int i = 0; i < 20; ++i)
      fetcher->fetch(request("hang-d" + std::to_string(i), 5s), [&](auto) { called = true; });
    // Every request reached its (hanging) device: the fetcher dies with 20 in flight.
    auto reached = [&] {
      FetchRequest stats;
      stats.url = "http://" + sim_->address() + "/stats";
      auto r = fetch(stats);
      if (!r.ok()) return false;
      const auto served = nlohmann::json::parse(r->body).at("devices");
      for (int i = 0; i < 20; ++i)
        if (served.value("hang-d" + std::to_string(i), 0) < 1) return false;
      return true;
    };
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!reached() && std::chrono::steady_clock::now() < deadline) {
      io.run_for(10ms);
      if (io.stopped()) io.restart();
    }
    ASSERT_TRUE(reached()) << "the requests never reached the device simulator";
    fetcher.reset();
    // The dead fetcher's late handlers run (and must do nothing) until the loop
    // has no work left; a handler left behind would keep it from stopping.
    io.restart();
    io.run_for(10s);
    EXPECT_TRUE(io.stopped());
    EXPECT_FALSE(called);
  }
  EXPECT_TRUE(fetch(request("n3")).ok());
}

INSTANTIATE_TEST_SUITE_P(Clients, HttpFetcherTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "PlainClient" : "Libcurl";
                         });

}  // namespace
}  // namespace edgepoll::pollers
