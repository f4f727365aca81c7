#include "logging_sinks.hpp"

#include <sys/uio.h>
#include <syslog.h>

#include <vector>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <systemd/sd-journal.h>

#include "edgepoll/appliance/logging.hpp"

namespace edgepoll::appliance {

namespace {

int syslog_priority(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug: return LOG_DEBUG;
    case spdlog::level::info: return LOG_INFO;
    case spdlog::level::warn: return LOG_WARNING;
    case spdlog::level::err: return LOG_ERR;
    case spdlog::level::critical: return LOG_CRIT;
    default: return LOG_INFO;
  }
}

}  // namespace

void JournalSink::sink_it_(const spdlog::details::log_msg& msg) {
  const std::string_view text(msg.payload.data(), msg.payload.size());
  const LogFields fields = extract_log_fields(text);
  std::vector<std::string> entries = {
      "MESSAGE=" + std::string(text),
      fmt::format("PRIORITY={}", syslog_priority(msg.level)),
      "SYSLOG_IDENTIFIER=" + identifier_,
  };
  if (!fields.device.empty()) entries.push_back("DEVICE=" + fields.device);
  if (!fields.supervisor.empty()) entries.push_back("SUPERVISOR=" + fields.supervisor);
  if (!fields.event.empty()) entries.push_back("EVENT=" + fields.event);
  std::vector<iovec> iov;
  iov.reserve(entries.size());
  for (auto& e : entries) iov.push_back({e.data(), e.size()});
  // A journal that refuses an entry has nowhere to report it: the entry is lost.
  (void)sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
}

void JsonLineSink::sink_it_(const spdlog::details::log_msg& msg) {
  const std::string_view text(msg.payload.data(), msg.payload.size());
  const LogFields fields = extract_log_fields(text);
  nlohmann::json line = {
      {"time", fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", fmt::gmtime(std::chrono::system_clock::to_time_t(msg.time)))},
      {"level", std::string(spdlog::level::to_string_view(msg.level).data(), spdlog::level::to_string_view(msg.level).size())},
      {"message", std::string(text)},
  };
  if (!fields.device.empty()) line["device"] = fields.device;
  if (!fields.supervisor.empty()) line["supervisor"] = fields.supervisor;
  if (!fields.event.empty()) line["event"] = fields.event;
  // A device's bytes may reach a message: invalid UTF-8 is replaced, never thrown.
  const std::string out = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);  // a line is whole when it is written, as the text console's are
}

}  // namespace edgepoll::appliance
