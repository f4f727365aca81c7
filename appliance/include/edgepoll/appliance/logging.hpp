#pragma once
// Where the daemon's log lines go. The call sites write one line of text with
// key=value words in it ("device=meter-7 event=quarantined ...", "supervision
// event=child_restarted supervisor=root/edge ..."); the sinks lift DEVICE,
// SUPERVISOR and EVENT out of that text, so no call site had to change:
//
//   journal  under systemd (JOURNAL_STREAM names our stdout or stderr): native
//            journal entries with MESSAGE, PRIORITY, SYSLOG_IDENTIFIER and the
//            fields (journalctl -u edgepoll DEVICE=meter-7)
//   text     the console, one line per entry (the default elsewhere)
//   json     the console, one JSON object per line with the same fields
#include <optional>
#include <string>
#include <string_view>

#include "edgepoll/supervision/result.hpp"

namespace edgepoll::appliance {

struct LogFields {
  std::string device;      // device=ID, or the device:ID step of a supervisor path
  std::string supervisor;  // supervisor=PATH
  std::string event;       // event=NAME
  friend bool operator==(const LogFields&, const LogFields&) = default;
};

// The fields in one message: a word "key=value" (value up to the next space,
// or a "quoted value"); the first of each key wins; absent ones stay empty.
LogFields extract_log_fields(std::string_view message);

enum class LogFormat { text, json };
Result<LogFormat> parse_log_format(std::string_view name);

// True when $JOURNAL_STREAM ("dev:inode") is the file of fd 1 or fd 2: systemd
// connected us to journald, so native entries (with fields) can replace lines.
bool stdio_is_journal();

// Replaces the default logger's sinks: the journal when stdio_is_journal(),
// else the console in `format`. `identifier` is SYSLOG_IDENTIFIER.
void setup_logging(LogFormat format, const std::string& identifier);

}  // namespace edgepoll::appliance
