#pragma once
// Durations in config files and simulator specs are written with a unit
// ("250ms", "5s", "2m", "1h") so that nobody has to guess whether 30 means
// seconds or milliseconds.
#include <string>
#include <string_view>

#include "edgepoll/supervision/clock.hpp"
#include "edgepoll/supervision/result.hpp"

namespace edgepoll::pollers {

using supervision::Duration;

// Parses "<number><unit>" with unit one of ms, s, m, h (number may be fractional).
// `what` names the field in the error ("device \"d1\": key \"interval\"").
Result<Duration> parse_duration(std::string_view text, std::string_view what);

// Inverse of parse_duration for messages and reports ("1.5s", "250ms").
std::string format_duration(Duration d);

}  // namespace edgepoll::pollers
