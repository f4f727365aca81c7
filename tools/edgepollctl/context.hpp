#pragma once
// What every edgepollctl command needs: where the daemon's health endpoint and
// control socket are, which state DB to read, and whether to print JSON. The
// defaults come from the config file ([health], [control], [storage]).
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "edgepoll/appliance/app_config.hpp"
#include "edgepoll/supervision/result.hpp"

namespace edgepoll::ctl {

// Exit codes (README "edgepollctl"): 0 ok, 1 not ready / not found / refused,
// 2 usage.
inline constexpr int kExitOk = 0;
inline constexpr int kExitNotOk = 1;
inline constexpr int kExitUsage = 2;

struct GlobalOptions {
  std::string health_url;  // "" = from the config
  std::string socket;      // "" = from the config
  std::string config = "/etc/edgepoll/edgepoll.toml";
  bool config_given = false;
  bool json = false;
};

class Context {
 public:
  // Loads the config when it exists (or was named); errors name the file.
  static Result<Context> resolve(const GlobalOptions& options);

  bool json() const { return json_; }
  const std::string& socket() const { return socket_; }
  const appliance::AppConfig& config() const { return config_; }
  bool config_loaded() const { return config_loaded_; }

  // GET from the health endpoint: the body parsed as JSON (for /tree, /ready)
  // or as text; errors say which URL did not answer.
  Result<nlohmann::json> get_json(const std::string& target, bool accept_503 = false) const;
  Result<std::string> get_text(const std::string& target) const;
  // One request over the control socket; the answer line.
  Result<nlohmann::json> control(const nlohmann::json& request) const;

 private:
  std::string host_ = "127.0.0.1";
  std::uint16_t port_ = 8470;
  std::string socket_;
  appliance::AppConfig config_;
  bool config_loaded_ = false;
  bool json_ = false;
};

}  // namespace edgepoll::ctl
