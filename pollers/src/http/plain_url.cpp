#include "edgepoll/pollers/plain_url.hpp"

#include <algorithm>
#include <charconv>
#include <string>

namespace edgepoll::pollers {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::optional<PlainUrl> parse_plain_url(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme) return std::nullopt;
  if (!std::all_of(url.begin(), url.end(), [](char c) { return c > 32 && c < 127; }))
    return std::nullopt;
  url.remove_prefix(kScheme.size());
  const auto authority_end = std::min(url.find_first_of("/?#"), url.size());
  const std::string_view authority = url.substr(0, authority_end);
  std::string_view target = url.substr(authority_end);
  target = target.substr(0, target.find('#'));
  if (!target.empty() && target.front() != '/') return std::nullopt;  // "?query" without a path
  if (authority.find('@') != std::string_view::npos) return std::nullopt;

  std::string_view host = authority;
  std::string_view port_text;
  if (!host.empty() && host.front() == '[') {
    const auto close = host.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    port_text = host.substr(close + 1);
    host = host.substr(1, close - 1);
    if (!port_text.empty() && port_text.front() != ':') return std::nullopt;
  } else if (const auto colon = host.find(':'); colon != std::string_view::npos) {
    port_text = host.substr(colon);
    host = host.substr(0, colon);
  }
  unsigned port = 80;
  if (!port_text.empty()) {
    port_text.remove_prefix(1);  // ':'
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
        port == 0 || port > 65535)
      return std::nullopt;
  }
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(std::string(host), ec);
  if (ec) return std::nullopt;  // a host name: libcurl resolves it
  return PlainUrl{tcp::endpoint(address, static_cast<unsigned short>(port)), authority,
                  target.empty() ? std::string_view("/") : target};
}

}  // namespace edgepoll::pollers
