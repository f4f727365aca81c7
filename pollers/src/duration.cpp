#include "edgepoll/pollers/duration.hpp"

#include <charconv>
#include <cmath>

#include <fmt/format.h>

namespace edgepoll::pollers {

Result<Duration> parse_duration(std::string_view text, std::string_view what) {
  auto bad = [&] {
    return make_error("pollers.config.bad_duration",
                      fmt::format("{}: \"{}\" is not a duration (expected e.g. \"250ms\", \"5s\", "
                                  "\"2m\", \"1h\")",
                                  what, text));
  };
  std::size_t digits = 0;
  while (digits < text.size() &&
         ((text[digits] >= '0' && text[digits] <= '9') || text[digits] == '.'))
    ++digits;
  if (digits == 0) return bad();
  double number = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + digits, number);
  if (ec != std::errc() || ptr != text.data() + digits || !std::isfinite(number)) return bad();
  const std::string_view unit = text.substr(digits);
  double ns_per_unit = 0;
  if (unit == "ms") ns_per_unit = 1e6;
  else if (unit == "s") ns_per_unit = 1e9;
  else if (unit == "m") ns_per_unit = 60e9;
  else if (unit == "h") ns_per_unit = 3600e9;
  else return bad();
  const double ns = number * ns_per_unit;
  if (ns > 1e18) return bad();  // beyond ~31 years: a typo, and would overflow
  return Duration(static_cast<Duration::rep>(ns));
}

std::string format_duration(Duration d) {
  const auto ns = d.count();
  if (ns % 1'000'000'000 == 0) return fmt::format("{}s", ns / 1'000'000'000);
  if (ns % 1'000'000 == 0) return fmt::format("{}ms", ns / 1'000'000);
  return fmt::format("{:.3f}ms", static_cast<double>(ns) / 1e6);
}

}  // namespace edgepoll::pollers
