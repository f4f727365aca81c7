#pragma once
// The health endpoint, a supervised worker under `health`:
//   /health   200 when the root and its top-level children run and answer a
//             message through their mailboxes within probe_timeout (liveness.hpp)
//   /ready    200 when every readiness check passes, 503 naming those that fail (readiness.hpp)
//   /metrics  Prometheus text from the metrics worker's registry (503 while it is not running)
//   /tree     the supervision tree as JSON (counts per supervisor, states)
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "edgepoll/appliance/http_server.hpp"
#include "edgepoll/appliance/metrics_worker.hpp"
#include "edgepoll/appliance/readiness.hpp"
#include "edgepoll/supervision/process.hpp"

namespace edgepoll::appliance {

struct HealthConfig {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8470;
  // /health's bound on a mailbox round trip (a 1 s probe leaves room for the HTTP part).
  supervision::Duration probe_timeout = std::chrono::milliseconds(500);
  ReadinessThresholds readiness;

  static Result<HealthConfig> parse(const toml::table& section);
};

class HealthEndpoint final : public supervision::Behaviour {
 public:
  // `root_name`: registry name of the tree's root, for /health and /tree.
  // `metrics`: the board the metrics worker puts its registry on.
  HealthEndpoint(HealthConfig config, std::shared_ptr<const MetricsBoard> metrics,
                 std::shared_ptr<const Readiness> readiness, std::string root_name = "root");
  supervision::InitResult init(supervision::Process& self) override;
  void terminate(supervision::Process& self, const supervision::ExitReason& reason) override;
  void describe(nlohmann::json& out) const override;

  // The port actually bound (config port 0 picks one); 0 before init.
  std::uint16_t port() const { return bound_port_.load(); }

 private:
  void serve(supervision::Runtime& runtime, const std::string& target, HttpRespond respond) const;

  HealthConfig config_;
  std::shared_ptr<const MetricsBoard> metrics_;
  std::shared_ptr<const Readiness> readiness_;
  std::string root_name_;
  std::unique_ptr<HttpServer> server_;
  std::atomic<std::uint16_t> bound_port_{0};
};

}  // namespace edgepoll::appliance
