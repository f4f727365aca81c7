#include "context.hpp"

#include <filesystem>
#include <iostream>

#include "control_client.hpp"
#include "http_client.hpp"

namespace edgepoll::ctl {

namespace {

// "http://HOST:PORT" (a trailing "/" is allowed); nothing else is an endpoint.
Result<std::pair<std::string, std::uint16_t>> parse_health_url(const std::string& url) {
  const std::string scheme = "http://";
  auto bad = [&] {
    return make_error("ctl.usage", "--health " + url + ": expected http://HOST:PORT, e.g. http://127.0.0.1:8470");
  };
  if (url.rfind(scheme, 0) != 0) return bad();
  std::string rest = url.substr(scheme.size());
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size()) return bad();
  std::string host = rest.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string digits = rest.substr(colon + 1);
  if (digits.size() > 5 || digits.find_first_not_of("0123456789") != std::string::npos) return bad();
  const int port = std::stoi(digits);
  if (port < 1 || port > 65535) return bad();
  return std::pair{host, static_cast<std::uint16_t>(port)};
}

}  // namespace

Result<Context> Context::resolve(const GlobalOptions& o) {
  Context c;
  c.json_ = o.json;
  std::error_code ec;
  if (o.config_given || std::filesystem::exists(o.config, ec)) {
    auto config = appliance::AppConfig::load(o.config);
    if (config.ok()) {
      c.config_ = std::move(config.value());
      c.config_loaded_ = true;
    } else if (o.config_given) {
      return config.take_error();
    } else {
      // The default file may be unreadable to this operator: the defaults
      // (or --health / --socket) still reach the daemon.
      std::cerr << "edgepollctl: warning: using the defaults: " << config.error().describe() << "\n";
    }
  }
  if (!o.health_url.empty()) {
    auto hp = parse_health_url(o.health_url);
    if (!hp.ok()) return hp.take_error();
    std::tie(c.host_, c.port_) = hp.value();
  } else {
    const auto& h = c.config_.health;
    // The daemon listens on every address: ask it on loopback.
    c.host_ = h.address == "0.0.0.0" ? "127.0.0.1" : h.address == "::" ? "::1" : h.address;
    c.port_ = h.port;
  }
  c.socket_ = o.socket.empty() ? c.config_.control.socket : o.socket;
  return c;
}

Result<std::string> Context::get_text(const std::string& target) const {
  if (port_ == 0) {
    return make_error("ctl.usage", "the config's [health] port is 0 (the daemon picks one at start)", false,
                      "pass --health http://HOST:PORT");
  }
  auto r = http_get(host_, port_, target);
  if (!r.ok()) return r.take_error();
  if (r->status != 200) {
    return make_error("ctl.health_status", target + " answered " + std::to_string(r->status) + ": " + r->body);
  }
  return std::move(r->body);
}

Result<nlohmann::json> Context::get_json(const std::string& target, bool accept_503) const {
  if (port_ == 0) {
    return make_error("ctl.usage", "the config's [health] port is 0 (the daemon picks one at start)", false,
                      "pass --health http://HOST:PORT");
  }
  auto r = http_get(host_, port_, target);
  if (!r.ok()) return r.take_error();
  if (r->status != 200 && !(accept_503 && r->status == 503)) {
    return make_error("ctl.health_status", target + " answered " + std::to_string(r->status) + ": " + r->body);
  }
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  if (j.is_discarded()) return make_error("ctl.bad_answer", target + " is not JSON: " + r->body.substr(0, 200));
  return j;
}

Result<nlohmann::json> Context::control(const nlohmann::json& request) const {
  return control_request(socket_, request);
}

}  // namespace edgepoll::ctl
