#pragma once
// A real etcd (package etcd-server) for a test: loopback, free ports, a temp
// data dir. stop() and start() again keep the data dir, like an etcd restart;
// the dir is removed when the object goes. Also a blocking read of one key
// through the project's own client, for checks from the test's thread.
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "edgepoll/appliance/etcd_client.hpp"
#include "support/child_process.hpp"
#include "support/free_port.hpp"
#include "support/http_get.hpp"

namespace edgepoll::testing {

class EtcdServer {
 public:
  EtcdServer() : client_port_(free_loopback_port()), peer_port_(free_loopback_port()) {
    char tmpl[] = "/tmp/edgepoll-etcd-XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    start();
  }
  ~EtcdServer() {
    process_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  EtcdServer(const EtcdServer&) = delete;
  EtcdServer& operator=(const EtcdServer&) = delete;

  // "http://127.0.0.1:PORT"
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(client_port_); }
  unsigned short port() const { return client_port_; }

  // Starts etcd (again) and waits until it answers /health with "true".
  void start() {
    const std::string client = endpoint();
    const std::string peer = "http://127.0.0.1:" + std::to_string(peer_port_);
    process_ = std::make_unique<ChildProcess>(
        "/usr/bin/etcd",
        std::vector<std::string>{"--name", "test", "--data-dir", (dir_ / "data").string(),
                                 "--listen-client-urls", client, "--advertise-client-urls", client,
                                 "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                                 "--initial-cluster", "test=" + peer, "--log-level", "warn"});
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      const auto r = http_get("127.0.0.1", client_port_, "/health");
      if (r.status == 200 && r.body.find("\"true\"") != std::string::npos) return;
      if (!process_->running()) break;
      std::this_thread::sleep_for(
          std::chrono::milliseconds(50));  // polling readiness with a deadline
    }
    throw std::runtime_error("etcd did not become healthy on " + client);
  }
  // SIGTERM, waiting for the exit; start() brings it back with the same data.
  void stop() { process_.reset(); }

 private:
  unsigned short client_port_;
  unsigned short peer_port_;
  std::filesystem::path dir_;
  std::unique_ptr<ChildProcess> process_;
};

// Blocking range through EtcdClient on an io_context of its own: the key's
// value, std::nullopt when etcd has no such key. Throws when etcd cannot be read
// (a check that cannot be made must not pass).
inline std::optional<std::string> etcd_get(const std::string& endpoint, const std::string& key) {
  boost::asio::io_context io;
  appliance::EtcdClient client(io, {{endpoint}, std::chrono::seconds(2)});
  std::optional<Result<std::vector<appliance::EtcdKeyValue>>> out;
  client.range(key, [&](Result<std::vector<appliance::EtcdKeyValue>> r) { out = std::move(r); });
  // The client's idle connection keeps the loop busy: run until answered.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!out && std::chrono::steady_clock::now() < deadline)
    io.run_one_for(std::chrono::milliseconds(100));
  if (!out || !out->ok())
    throw std::runtime_error("etcd_get " + key + ": " +
                             (out ? out->error().describe() : "no answer"));
  if (out->value().empty()) return std::nullopt;
  return out->value().front().value;
}

}  // namespace edgepoll::testing
