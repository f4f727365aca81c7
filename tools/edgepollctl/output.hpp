#pragma once
// Printing: aligned tables for people, times in UTC, and the errors.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "edgepoll/supervision/result.hpp"

namespace edgepoll::ctl {

void print_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);
// "2026-12-01T09:30:00Z", or "-" when absent.
std::string utc_time(std::optional<std::int64_t> ms);
// "3s", "2m5s", "4h1m", "3d2h".
std::string age(std::int64_t ms);
// --since: an RFC 3339 UTC time ("2026-12-01T08:00:00Z") or a duration ago ("30m").
Result<std::int64_t> parse_since(const std::string& text, std::int64_t now_ms);
// Prints "edgepollctl: <error>" on stderr (or {"ok":false,"error":...} with --json) and returns 1.
int fail(const Error& e, bool json);
// The answer of the control socket: prints it, 0 when ok, else 1.
int print_answer(const nlohmann::json& answer, bool json, const std::string& done_text);

}  // namespace edgepoll::ctl
