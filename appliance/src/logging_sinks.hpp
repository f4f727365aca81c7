#pragma once
// The two sinks setup_logging() may install (see logging.hpp).
#include <cstdio>
#include <mutex>
#include <string>

#include <spdlog/sinks/base_sink.h>

namespace edgepoll::appliance {

// Native journal entries (sd_journal_sendv): MESSAGE, PRIORITY,
// SYSLOG_IDENTIFIER, and DEVICE / SUPERVISOR / EVENT when the message has them.
class JournalSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit JournalSink(std::string identifier) : identifier_(std::move(identifier)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override {}

 private:
  std::string identifier_;
};

// One JSON object per line on stdout: time, level, message and the fields.
class JsonLineSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override { std::fflush(stdout); }
};

}  // namespace edgepoll::appliance
