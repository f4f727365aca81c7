#pragma once
// Secrets (passwords, tokens, SNMP communities and passphrases) live in files
// named by the config, never in the config itself, and never in a log line.
#include <string>

#include "edgepoll/supervision/result.hpp"

namespace edgepoll::pollers {

// The file's content without the trailing newline `echo` leaves. Errors
// (non-retryable, naming the device and the path, never the content):
// pollers.config.secret_unreadable, pollers.config.secret_empty.
Result<std::string> read_secret_file(const std::string& path, const std::string& device_id);

}  // namespace edgepoll::pollers
