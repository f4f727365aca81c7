#pragma once
// Base64 (RFC 4648, with padding): HTTP Basic credentials and etcd's keys and values.
#include <optional>
#include <string>
#include <string_view>

namespace edgepoll::pollers {

std::string base64_encode(std::string_view in);
// nullopt on a character outside the alphabet; stops at the first '='.
std::optional<std::string> base64_decode(std::string_view in);

}  // namespace edgepoll::pollers
