#include "output.hpp"

#include <ctime>
#include <iostream>

#include <fmt/format.h>

#include "context.hpp"
#include "edgepoll/appliance/control_request.hpp"
#include "edgepoll/pollers/duration.hpp"

namespace edgepoll::ctl {

void print_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(header.size());
  for (std::size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size() && i < width.size(); ++i) width[i] = std::max(width[i], r[i].size());
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (i + 1 == cells.size()) out += cells[i];  // no trailing blanks after the last column
      else out += fmt::format("{:<{}}  ", cells[i], width[i]);
    }
    std::cout << out << "\n";
  };
  line(header);
  for (const auto& r : rows) line(r);
}

std::string utc_time(std::optional<std::int64_t> ms) {
  if (!ms) return "-";
  const std::time_t t = static_cast<std::time_t>(*ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string age(std::int64_t ms) {
  std::int64_t s = std::max<std::int64_t>(0, ms / 1000);
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{}s", s / 60, s % 60);
  if (s < 86400) return fmt::format("{}h{}m", s / 3600, s % 3600 / 60);
  return fmt::format("{}d{}h", s / 86400, s % 86400 / 3600);
}

Result<std::int64_t> parse_since(const std::string& text, std::int64_t now_ms) {
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (end && *end == '\0') return static_cast<std::int64_t>(timegm(&tm)) * 1000;
  auto d = pollers::parse_duration(text, "--since");
  if (!d.ok()) {
    return make_error("ctl.usage", "--since " + text + ": expected a UTC time like 2026-12-01T08:00:00Z or a duration like 30m");
  }
  return now_ms - std::chrono::duration_cast<std::chrono::milliseconds>(d.value()).count();
}

int fail(const Error& e, bool json) {
  if (json) std::cout << appliance::control_error(e).dump() << "\n";
  else std::cerr << "edgepollctl: " << e.describe() << "\n";
  return e.code == "ctl.usage" ? kExitUsage : kExitNotOk;
}

int print_answer(const nlohmann::json& answer, bool json, const std::string& done_text) {
  const bool ok = answer.value("ok", false);
  if (json) {
    std::cout << answer.dump() << "\n";
  } else if (ok) {
    std::cout << done_text << "\n";
  } else if (answer.contains("error")) {
    const auto& e = answer["error"];
    std::cerr << "edgepollctl: " << e.value("code", "?") << ": " << e.value("message", "");
    if (e.contains("hint")) std::cerr << " (hint: " << e.value("hint", "") << ")";
    std::cerr << "\n";
  }
  if (!json && answer.contains("failed")) {
    for (const auto& f : answer["failed"]) {
      std::cerr << "edgepollctl: " << f.value("id", 0) << " " << f.value("key", "") << ": "
                << f["error"].value("code", "?") << ": " << f["error"].value("message", "") << "\n";
    }
  }
  return ok ? kExitOk : kExitNotOk;
}

}  // namespace edgepoll::ctl
