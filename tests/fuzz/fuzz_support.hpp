#pragma once
// What every fuzz target shares: the input as text, and the properties a
// parser promises beyond "does not crash" (a broken one aborts, which the
// fuzzer reports as a crash and keeps the input).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "edgepoll/supervision/result.hpp"

namespace edgepoll::fuzz {

inline std::string_view text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

inline void require(bool holds, const char* property) {
  if (holds) return;
  std::fprintf(stderr, "fuzz property broken: %s\n", property);
  std::abort();
}

// An error of the outside world is a value an operator can read: it has a
// code and a message.
inline void require_readable(const Error& error) {
  require(!error.code.empty(), "an error has a code");
  require(!error.message.empty(), "an error has a message");
}

}  // namespace edgepoll::fuzz
