#include "edgepoll/appliance/logging.hpp"

#include <sys/stat.h>

#include <cstdlib>
#include <memory>

#include <spdlog/spdlog.h>

#include "logging_sinks.hpp"

namespace edgepoll::appliance {

namespace {

bool word_start(std::string_view text, std::size_t at) { return at == 0 || text[at - 1] == ' '; }

// The value of the first word "key=..." in `text`, or "" when there is none.
std::string value_of(std::string_view text, std::string_view key) {
  const std::string prefix = std::string(key) + "=";
  for (std::size_t at = text.find(prefix); at != std::string_view::npos; at = text.find(prefix, at + 1)) {
    if (!word_start(text, at)) continue;
    std::size_t begin = at + prefix.size();
    if (begin < text.size() && text[begin] == '"') {
      const auto end = text.find('"', begin + 1);
      return std::string(text.substr(begin + 1, end == std::string_view::npos ? std::string_view::npos : end - begin - 1));
    }
    const auto end = text.find(' ', begin);
    return std::string(text.substr(begin, end == std::string_view::npos ? std::string_view::npos : end - begin));
  }
  return {};
}

}  // namespace

LogFields extract_log_fields(std::string_view message) {
  LogFields f{value_of(message, "device"), value_of(message, "supervisor"), value_of(message, "event")};
  if (f.device.empty()) {
    // A device's own subtree is root/edge/pollers/device:<id>[/...].
    if (const auto at = f.supervisor.find("/device:"); at != std::string::npos) {
      const auto begin = at + 8;
      f.device = f.supervisor.substr(begin, f.supervisor.find('/', begin) - begin);
    }
  }
  return f;
}

Result<LogFormat> parse_log_format(std::string_view name) {
  if (name == "text") return LogFormat::text;
  if (name == "json") return LogFormat::json;
  return make_error("usage.log_format", "--log-format: expected text or json, not '" + std::string(name) + "'");
}

bool stdio_is_journal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (!stream) return false;
  const std::string value(stream);
  const auto colon = value.find(':');
  if (colon == std::string::npos) return false;
  for (int fd : {1, 2}) {
    struct stat st{};
    if (fstat(fd, &st) != 0) continue;
    if (value.substr(0, colon) == std::to_string(st.st_dev) && value.substr(colon + 1) == std::to_string(st.st_ino))
      return true;
  }
  return false;
}

void setup_logging(LogFormat format, const std::string& identifier) {
  std::shared_ptr<spdlog::sinks::sink> sink;
  if (stdio_is_journal()) sink = std::make_shared<JournalSink>(identifier);
  else if (format == LogFormat::json) sink = std::make_shared<JsonLineSink>();
  if (!sink) return;  // text on the console: spdlog's default logger already does it
  auto logger = std::make_shared<spdlog::logger>(identifier, std::move(sink));
  logger->set_level(spdlog::default_logger()->level());
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace edgepoll::appliance
