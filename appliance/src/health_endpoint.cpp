#include "edgepoll/appliance/health_endpoint.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "edgepoll/appliance/liveness.hpp"
#include "edgepoll/pollers/duration.hpp"
#include "edgepoll/supervision/config_keys.hpp"
#include "edgepoll/supervision/runtime.hpp"
#include "edgepoll/supervision/supervisor.hpp"

namespace edgepoll::appliance {

using namespace supervision;

namespace {

Error wrong(const toml::table& t, std::string_view key, std::string_view expected) {
  std::string at = "[health]";
  if (const auto* n = t.get(key); n && n->source().begin.line > 0) at += " line " + std::to_string(n->source().begin.line);
  return make_error("config.type", at + " key \"" + std::string(key) + "\": expected " + std::string(expected), false,
                    "correct the value in the configuration file");
}

Status duration(const toml::table& t, std::string_view key, Duration& out) {
  const auto* n = t.get(key);
  if (!n) return ok_status();
  const auto* text = n->as_string();
  if (!text) return wrong(t, key, "a duration like \"60s\"");
  auto d = pollers::parse_duration(text->get(), "[health] " + std::string(key));
  if (!d.ok() || d.value() <= Duration::zero()) return wrong(t, key, "a positive duration like \"60s\"");
  out = d.value();
  return ok_status();
}

Status share(const toml::table& t, std::string_view key, double& out, double max) {
  const auto* n = t.get(key);
  if (!n) return ok_status();
  const auto v = n->value<double>();
  if (!v || *v < 0 || *v > max) return wrong(t, key, "a number 0.." + std::to_string(static_cast<int>(max)));
  out = *v;
  return ok_status();
}

}  // namespace

Result<HealthConfig> HealthConfig::parse(const toml::table& t) {
  if (auto s = reject_unknown_keys(t, "[health]",
                                   std::initializer_list<std::string_view>{
                                       "address", "port", "probe_timeout", "ready_requires", "max_restarts",
                                       "storage_error_max", "queue_max_share", "kafka_unacked_max",
                                       "devices_min_share", "devices_intervals"});
      !s.ok()) {
    return s.take_error();
  }
  HealthConfig c;
  if (auto n = t["address"]; n) {
    if (!n.is_string()) return wrong(t, "address", "a string like \"127.0.0.1\"");
    c.address = *n.value<std::string>();
  }
  if (auto n = t["port"]; n) {
    const auto v = integer_value(n);
    if (!v || *v < 0 || *v > 65535) return wrong(t, "port", "an integer 0..65535");
    c.port = static_cast<std::uint16_t>(*v);
  }
  if (auto n = t["ready_requires"]; n) {
    const auto* arr = n.as_array();
    if (!arr) return wrong(t, "ready_requires", "an array of tree paths like [\"root/deps\", \"root/edge\"]");
    c.readiness.ready_requires.clear();
    for (const auto& e : *arr) {
      if (!e.is_string()) return wrong(t, "ready_requires", "an array of strings");
      c.readiness.ready_requires.push_back(*e.value<std::string>());
    }
  }
  if (auto n = t["max_restarts"]; n) {
    const auto v = integer_value(n);
    if (!v || *v < 0) return wrong(t, "max_restarts", "an integer >= 0");
    c.readiness.max_restarts = static_cast<std::size_t>(*v);
  }
  auto& r = c.readiness;
  Status checks[] = {duration(t, "probe_timeout", c.probe_timeout),
                     duration(t, "storage_error_max", r.storage_error_max),
                     duration(t, "kafka_unacked_max", r.kafka_unacked_max),
                     share(t, "queue_max_share", r.queue_max_share, 1),
                     share(t, "devices_min_share", r.devices_min_share, 1),
                     share(t, "devices_intervals", r.devices_intervals, 1000)};
  for (auto& s : checks)
    if (!s.ok()) return s.take_error();
  return c;
}

HealthEndpoint::HealthEndpoint(HealthConfig config, std::shared_ptr<const MetricsBoard> metrics,
                               std::shared_ptr<const Readiness> readiness, std::string root_name)
    : config_(std::move(config)), metrics_(std::move(metrics)), readiness_(std::move(readiness)),
      root_name_(std::move(root_name)) {}

InitResult HealthEndpoint::init(Process& self) {
  Runtime& rt = self.runtime();
  server_ = std::make_unique<HttpServer>(rt.io(), [this, &rt](const std::string&, const std::string& target,
                                                              HttpRespond respond) {
    serve(rt, target, std::move(respond));
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

void HealthEndpoint::serve(Runtime& rt, const std::string& target, HttpRespond respond) const {
  const std::string path = target.substr(0, target.find('?'));
  if (path == "/health") {
    return check_liveness(rt, root_name_, config_.probe_timeout, [respond](LivenessResult r) {
      respond({r.alive ? 200 : 503, "application/json", r.to_json().dump() + "\n"});
    });
  }
  if (path == "/ready") {
    if (!readiness_) return respond({503, "application/json", "{\"ready\":false,\"reason\":\"no readiness checks\"}\n"});
    const auto report = readiness_->report();
    return respond({report.verdict.ready ? 200 : 503, "application/json", report.body.dump() + "\n"});
  }
  if (path == "/metrics") {
    auto metrics = metrics_ ? metrics_->get() : nullptr;
    if (!metrics)
      return respond({503, "text/plain; charset=utf-8",
                      "the metrics worker (root/deps/metrics) is not running; its supervisor restarts it\n"});
    return respond({200, "text/plain; version=0.0.4", metrics->render()});
  }
  if (path == "/tree") {
    const auto root = rt.registry().whereis(root_name_);
    if (!root) return respond({503, "application/json", "{\"error\":\"the tree is not running\"}\n"});
    return respond({200, "application/json", tree_snapshot(*root).dump(2) + "\n"});
  }
  respond({404, "text/plain; charset=utf-8", "not found; try /health /ready /metrics /tree\n"});
}

}  // namespace edgepoll::appliance
