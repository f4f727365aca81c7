// The health endpoint over a real socket, on a real thread pool.
#include <gtest/gtest.h>

#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "edgepoll/appliance/health_endpoint.hpp"
#include "edgepoll/storage/database.hpp"
#include "edgepoll/supervision/supervisor.hpp"
#include "support/http_get.hpp"
#include "support/wait_for.hpp"

namespace edgepoll::appliance {
namespace {
using namespace supervision;
using namespace std::chrono_literals;
namespace asio = boost::asio;

testing::HttpResult get(std::uint16_t port, const std::string& target) {
  return testing::http_get("127.0.0.1", port, target);
}

class Idle final : public Behaviour {
 public:
  void handle(Process& self, Message&) override { self.exit(ExitReason::error("poked")); }
};

struct Node {
  Node() : clock(io), runtime(io, clock, false), guard(io.get_executor()) {
    // What the metrics worker puts on the board (here without the worker).
    auto registry = std::make_shared<Metrics>();
    register_supervision_metrics(*registry, supervision);
    metrics->set(registry);
    runtime.add_observer(supervision);
    // A real store and writer, so that the storage check measures something.
    char tmpl[] = "/tmp/edgepoll-health-XXXXXX";
    dir = mkdtemp(tmpl);
    store.path = (dir / "edgepoll.db").string();
    auto db = storage::Database::open(store);
    if (!db.ok()) throw std::runtime_error(db.error().describe());
    writer->set(std::make_shared<storage::BatchWriter>(std::move(db.value()), store));
    thread = std::thread([this] { io.run(); });
  }
  ~Node() {
    guard.reset();
    io.stop();
    thread.join();
    if (auto w = writer->get()) w->stop();
    std::filesystem::remove_all(dir);
  }
  // root (one_for_one) over [health endpoint on a free port, an idle worker].
  std::pair<Pid, std::shared_ptr<HealthEndpoint>> start(std::vector<std::string> ready_requires) {
    HealthConfig config;
    config.port = 0;
    config.readiness.ready_requires = std::move(ready_requires);
    readiness = std::make_shared<Readiness>(
        config.readiness,
        ReadinessSources{writer, store.queue_capacity, nullptr, false, nullptr, nullptr, nullptr}, runtime);
    auto endpoint = std::make_shared<HealthEndpoint>(config, metrics, readiness);
    ChildFactory idle = [](const ChildStart&) -> Result<std::shared_ptr<Behaviour>> {
      return std::shared_ptr<Behaviour>(std::make_shared<Idle>());
    };
    ChildFactory http = [endpoint](const ChildStart&) -> Result<std::shared_ptr<Behaviour>> { return std::shared_ptr<Behaviour>(endpoint); };
    SupervisorSpec spec{{Strategy::one_for_one, 10, 5}, {worker_child("health", http), worker_child("worker", idle)}};
    Pid root = runtime.spawn(std::make_shared<Supervisor>(spec), "root").value();
    if (!runtime.registry().register_name("root", root).ok()) throw std::runtime_error("root name taken");
    return {root, endpoint};
  }
  asio::io_context io;
  SteadyClock clock;
  Runtime runtime;
  asio::executor_work_guard<asio::io_context::executor_type> guard;
  std::shared_ptr<SupervisionEventCounts> supervision = std::make_shared<SupervisionEventCounts>();
  std::shared_ptr<MetricsBoard> metrics = std::make_shared<MetricsBoard>();
  std::filesystem::path dir;
  storage::StoreConfig store;
  std::shared_ptr<storage::WriterHandle> writer = std::make_shared<storage::WriterHandle>();
  std::shared_ptr<Readiness> readiness;
  std::thread thread;
};

TEST(HealthEndpoint, ServesHealthReadyMetricsAndTree) {
  Node node;
  auto [root, endpoint] = node.start({"root/edge/pollers"});
  const auto port = endpoint->port();
  ASSERT_NE(port, 0);

  EXPECT_EQ(get(port, "/health").status, 200);
  auto ready = get(port, "/ready");
  EXPECT_EQ(ready.status, 503);  // nothing at root/edge/pollers in this tree
  const auto body = nlohmann::json::parse(ready.body);
  EXPECT_EQ(body["checks"]["tree"]["not_running"][0], "root/edge/pollers");
  EXPECT_TRUE(body["checks"]["storage"]["ok"].get<bool>()) << body.dump();
  auto tree = nlohmann::json::parse(get(port, "/tree").body);
  EXPECT_EQ(tree["strategy"], "one_for_one");
  EXPECT_EQ(tree["children"].size(), 2u);
  EXPECT_EQ(get(port, "/nope").status, 404);

  // A crash shows up in /metrics.
  node.runtime.send(which_children(root)[1].pid, 1);
  std::string metrics;
  for (int i = 0; i < 1000 && metrics.find("event=\"crash\"} 1") == std::string::npos; ++i) {
    metrics = get(port, "/metrics").body;
  }
  EXPECT_NE(metrics.find("edgepoll_supervision_events_total{event=\"crash\"} 1"), std::string::npos) << metrics;
  // No registry on the board (its worker stopped): /metrics says so instead of an empty page.
  node.metrics->set(nullptr);
  const auto none = get(port, "/metrics");
  EXPECT_EQ(none.status, 503);
  EXPECT_NE(none.body.find("root/deps/metrics"), std::string::npos) << none.body;

  stop_supervisor(node.runtime, root, ExitReason::shutdown());
}

TEST(HealthEndpoint, ReadyWhenTheWatchedPathRunsAndTheWriterToo) {
  Node node;
  auto [root, endpoint] = node.start({"root/worker"});
  auto ready = get(endpoint->port(), "/ready");
  EXPECT_EQ(ready.status, 200) << ready.body;
  auto writer = node.writer->get();
  node.writer->set(nullptr);  // storage restarting
  ready = get(endpoint->port(), "/ready");
  EXPECT_EQ(ready.status, 503);
  EXPECT_FALSE(nlohmann::json::parse(ready.body)["checks"]["storage"]["ok"].get<bool>());
  node.writer->set(writer);
  stop_supervisor(node.runtime, root, ExitReason::shutdown());
}

TEST(HealthEndpoint, HealthIs503NamingAProcessWhoseMailboxStalls) {
  Node node;
  auto [root, endpoint] = node.start({"root/worker"});
  EXPECT_EQ(get(endpoint->port(), "/health").status, 200);
  const Pid worker = which_children(root)[1].pid;
  node.runtime.send(worker, SysSuspend{});
  auto health = get(endpoint->port(), "/health");
  EXPECT_EQ(health.status, 503);
  EXPECT_EQ(nlohmann::json::parse(health.body)["not_answering"][0], "root/worker") << health.body;
  node.runtime.send(worker, SysResume{});
  EXPECT_EQ(get(endpoint->port(), "/health").status, 200);
  stop_supervisor(node.runtime, root, ExitReason::shutdown());
}

// A killed endpoint gives its port back at once and its keep-alive connections
// answer nothing more: the supervisor's replacement binds the same fixed port
// on its first start (no start_error using up health's intensity), and a
// connection opened before the kill cannot call into the dead endpoint.
TEST(HealthEndpoint, AKilledEndpointsReplacementBindsTheSamePortAtOnce) {
  Node node;
  std::uint16_t fixed = 0;
  {
    asio::io_context probe;
    HttpServer free_port(probe, [](const std::string&, const std::string&) { return HttpResponse{}; });
    auto p = free_port.start("127.0.0.1", 0);
    ASSERT_TRUE(p.ok());
    fixed = p.value();
  }  // released: a port no one else here uses
  HealthConfig config;
  config.port = fixed;
  auto readiness = std::make_shared<Readiness>(
      config.readiness, ReadinessSources{node.writer, node.store.queue_capacity, nullptr, false, nullptr, nullptr, nullptr},
      node.runtime);
  // A new endpoint per start, as the daemon's tree makes them.
  ChildFactory http = [&](const ChildStart&) -> Result<std::shared_ptr<Behaviour>> {
    return std::shared_ptr<Behaviour>(std::make_shared<HealthEndpoint>(config, node.metrics, readiness));
  };
  SupervisorSpec spec{{Strategy::one_for_one, 10, 5}, {worker_child("http_endpoint", http)}};
  Pid root = node.runtime.spawn(std::make_shared<Supervisor>(spec), "root").value();
  ASSERT_TRUE(node.runtime.registry().register_name("root", root).ok());
  ASSERT_EQ(get(fixed, "/health").status, 200);

  // A keep-alive connection that has been answered once.
  asio::io_context client_io;
  asio::ip::tcp::socket conn(client_io);
  conn.connect({asio::ip::make_address("127.0.0.1"), fixed});
  const std::string request = "GET /health HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n";
  asio::write(conn, asio::buffer(request));
  std::string first(4096, '\0');
  first.resize(conn.read_some(asio::buffer(first)));
  ASSERT_NE(first.find("200"), std::string::npos) << first;

  const Pid before = which_children(root)[0].pid;
  node.runtime.exit(before, ExitReason::kill());
  ASSERT_TRUE(testing::wait_for([&] {
    const auto now = which_children(root);
    return !now.empty() && now[0].pid && now[0].pid != before;
  }));
  EXPECT_EQ(get(fixed, "/health").status, 200);
  const auto events = node.supervision->snapshot();
  EXPECT_EQ(events.count("start_error"), 0u) << "the replacement could not bind port " << fixed;

  // The old connection: its next request is not served by the dead endpoint.
  asio::write(conn, asio::buffer(request));
  boost::system::error_code ec;
  std::string second(4096, '\0');
  second.resize(conn.read_some(asio::buffer(second), ec));
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset || second.empty()) << second;

  stop_supervisor(node.runtime, root, ExitReason::shutdown());
}

TEST(HealthConfig, RejectsUnknownKeysNamingKeyAndLine) {
  auto table = toml::parse("address = \"127.0.0.1\"\nprot = 8080\n");
  auto c = HealthConfig::parse(table);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message, "[health] line 2: unknown key \"prot\" (expected one of: address, port, probe_timeout, ready_requires, "
            "max_restarts, storage_error_max, queue_max_share, kafka_unacked_max, devices_min_share, devices_intervals)");
}

TEST(HealthConfig, ThresholdsParseAndBadOnesNameTheKeyAndLine) {
  auto c = HealthConfig::parse(toml::parse("kafka_unacked_max = \"5s\"\ndevices_min_share = 0.5\nmax_restarts = 1\n"));
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ(c->readiness.kafka_unacked_max, std::chrono::seconds(5));
  EXPECT_EQ(c->readiness.devices_min_share, 0.5);
  EXPECT_EQ(c->readiness.max_restarts, 1u);
  auto bad = HealthConfig::parse(toml::parse("port = 1\ndevices_min_share = 2\n"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "[health] line 2 key \"devices_min_share\": expected a number 0..1");
}

TEST(HealthConfig, RejectsABadPort) {
  auto c = HealthConfig::parse(toml::parse("port = 70000\n"));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("0..65535"), std::string::npos);
}

// A float where an integer belongs is refused, however large (toml++ would
// convert it, and one beyond int64's range is undefined behaviour there).
TEST(HealthConfig, RejectsAFloatPortEvenBeyondAnyInteger) {
  for (const char* text : {"port = 8080.0\n", "port = 1e300\n", "max_restarts = 6.6e104\n"}) {
    auto c = HealthConfig::parse(toml::parse(text));
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_NE(c.error().message.find("an integer"), std::string::npos) << c.error().message;
  }
}

TEST(HealthConfig, BusyPortIsAnErrorValueNamingTheAddress) {
  asio::io_context io;
  HttpServer a(io, [](const std::string&, const std::string&) { return HttpResponse{}; });
  auto port = a.start("127.0.0.1", 0);
  ASSERT_TRUE(port.ok());
  HttpServer b(io, [](const std::string&, const std::string&) { return HttpResponse{}; });
  auto clash = b.start("127.0.0.1", port.value());
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.error().code, "health.listen_failed");
  EXPECT_NE(clash.error().message.find("127.0.0.1:" + std::to_string(port.value())), std::string::npos);
}

}  // namespace
}  // namespace edgepoll::appliance
