#pragma once
// A blocking HTTP/1.1 GET with a deadline, enough for the health endpoint.
#include <chrono>
#include <cstdint>
#include <string>

#include "edgepoll/supervision/result.hpp"

namespace edgepoll::ctl {

struct HttpReply {
  int status = 0;
  std::string body;
};

Result<HttpReply> http_get(const std::string& host, std::uint16_t port, const std::string& target,
                           std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace edgepoll::ctl
