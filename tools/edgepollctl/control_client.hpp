#pragma once
// One request over the daemon's control socket: a JSON line out, a JSON line back.
#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "edgepoll/supervision/result.hpp"

namespace edgepoll::ctl {

Result<nlohmann::json> control_request(const std::string& socket_path, const nlohmann::json& request,
                                       std::chrono::seconds timeout = std::chrono::seconds(30));

}  // namespace edgepoll::ctl
