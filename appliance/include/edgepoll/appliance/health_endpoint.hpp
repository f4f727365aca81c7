#pragma once
// The health endpoint, a supervised worker under `health`:
//   /health   200 while the event loop answers (liveness)
//   /ready    200 when every watched subtree runs, 503 naming those that do not
//   /metrics  Prometheus text
//   /tree     the supervision tree as JSON (counts per supervisor, states)
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "edgepoll/appliance/http_server.hpp"
#include "edgepoll/appliance/metrics.hpp"
#include "edgepoll/supervision/process.hpp"

namespace edgepoll::appliance {

struct HealthConfig {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8470;
  // Paths of processes that must run for /ready (service discovery trusts it).
  std::vector<std::string> ready_requires = {"root/edge/pollers"};

  static Result<HealthConfig> parse(const toml::table& section);
};

class HealthEndpoint final : public supervision::Behaviour {
 public:
  // `root_name`: registry name of the tree's root, for /tree and /ready.
  HealthEndpoint(HealthConfig config, std::shared_ptr<Metrics> metrics, std::string root_name = "root");
  supervision::InitResult init(supervision::Process& self) override;
  void terminate(supervision::Process& self, const supervision::ExitReason& reason) override;
  void describe(nlohmann::json& out) const override;

  // The port actually bound (config port 0 picks one); 0 before init.
  std::uint16_t port() const { return bound_port_.load(); }

 private:
  HttpResponse serve(supervision::Runtime& runtime, const std::string& target) const;

  HealthConfig config_;
  std::shared_ptr<Metrics> metrics_;
  std::string root_name_;
  std::unique_ptr<HttpServer> server_;
  std::atomic<std::uint16_t> bound_port_{0};
};

}  // namespace edgepoll::appliance
