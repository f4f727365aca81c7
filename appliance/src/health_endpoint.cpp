#include "edgepoll/appliance/health_endpoint.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "edgepoll/supervision/config_keys.hpp"
#include "edgepoll/supervision/runtime.hpp"
#include "edgepoll/supervision/supervisor.hpp"

namespace edgepoll::appliance {

using namespace supervision;

Result<HealthConfig> HealthConfig::parse(const toml::table& t) {
  if (auto s = reject_unknown_keys(t, "[health]", std::initializer_list<std::string_view>{"address", "port", "ready_requires"}); !s.ok()) {
    return s.take_error();
  }
  HealthConfig c;
  if (auto n = t["address"]; n) {
    if (!n.is_string()) return make_error("config.type", "[health] address: expected a string like \"127.0.0.1\"");
    c.address = *n.value<std::string>();
  }
  if (auto n = t["port"]; n) {
    const auto v = n.value<std::int64_t>();
    if (!v || *v < 0 || *v > 65535) return make_error("config.type", "[health] port: expected an integer 0..65535");
    c.port = static_cast<std::uint16_t>(*v);
  }
  if (auto n = t["ready_requires"]; n) {
    const auto* arr = n.as_array();
    if (!arr) return make_error("config.type", "[health] ready_requires: expected an array of tree paths");
    c.ready_requires.clear();
    for (const auto& e : *arr) {
      if (!e.is_string()) return make_error("config.type", "[health] ready_requires: expected strings");
      c.ready_requires.push_back(*e.value<std::string>());
    }
  }
  return c;
}

HealthEndpoint::HealthEndpoint(HealthConfig config, std::shared_ptr<Metrics> metrics, std::string root_name)
    : config_(std::move(config)), metrics_(std::move(metrics)), root_name_(std::move(root_name)) {}

InitResult HealthEndpoint::init(Process& self) {
  Runtime& rt = self.runtime();
  server_ = std::make_unique<HttpServer>(rt.io(), [this, &rt](const std::string&, const std::string& target) {
    return serve(rt, target);
  });
  auto port = server_->start(config_.address, config_.port);
  if (!port.ok()) return InitResult::error(port.error());
  bound_port_ = port.value();
  spdlog::info("health endpoint listening on http://{}:{}/ (/health /ready /metrics /tree)", config_.address,
               port.value());
  return InitResult::ok();
}

void HealthEndpoint::terminate(Process&, const ExitReason&) {
  if (server_) server_->stop();
}

void HealthEndpoint::describe(nlohmann::json& out) const { out["port"] = bound_port_.load(); }

HttpResponse HealthEndpoint::serve(Runtime& rt, const std::string& target) const {
  const std::string path = target.substr(0, target.find('?'));
  if (path == "/health") return {200, "text/plain; charset=utf-8", "ok\n"};
  const auto root = rt.registry().whereis(root_name_);
  if (path == "/ready") {
    nlohmann::json missing = nlohmann::json::array();
    for (const auto& p : config_.ready_requires) {
      if (!root || !find_in_tree(*root, p)) missing.push_back(p);
    }
    const bool ready = missing.empty();
    nlohmann::json body = {{"ready", ready}, {"not_running", missing}};
    return {ready ? 200 : 503, "application/json", body.dump() + "\n"};
  }
  if (path == "/metrics") return {200, "text/plain; version=0.0.4", metrics_ ? metrics_->render() : ""};
  if (path == "/tree") {
    if (!root) return {503, "application/json", "{\"error\":\"the tree is not running\"}\n"};
    return {200, "application/json", tree_snapshot(*root).dump(2) + "\n"};
  }
  return {404, "text/plain; charset=utf-8", "not found; try /health /ready /metrics /tree\n"};
}

}  // namespace edgepoll::appliance
