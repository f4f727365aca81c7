#pragma once
// What the fetcher's plain-HTTP client reads from a device URL.
#include <boost/asio/ip/tcp.hpp>
#include <optional>
#include <string_view>

namespace edgepoll::pollers {

// The parts of a URL the plain client needs. nullopt for a URL it does not
// take whole (another scheme, a host name, userinfo, bytes that are not
// printable ASCII): libcurl serves those.
struct PlainUrl {
  boost::asio::ip::tcp::endpoint endpoint;
  std::string_view authority;  // for the Host header, as written in the URL
  std::string_view target;     // path and query ("/" when the URL has none)
};
// The views point into `url`.
std::optional<PlainUrl> parse_plain_url(std::string_view url);

}  // namespace edgepoll::pollers
