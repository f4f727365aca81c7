#pragma once
// Checks of a database file's bytes made before SQLite sees it, so that a file
// that is empty, truncated or not SQLite at all is refused by name instead of
// being "repaired" (SQLite would happily turn an empty file into a database).
#include <string>

#include "edgepoll/supervision/result.hpp"

namespace edgepoll::storage {

// What to do with a store that cannot be used as it is.
inline constexpr const char* kMoveAside =
    "stop edgepoll, move the file aside (keep it for analysis) and restart to begin with an "
    "empty store, or restore it from a backup";

// Builds the refusal every boot check returns: names the file and the problem,
// says that nothing was changed, and what to do.
Error refuse(const std::string& path, std::string code, const std::string& problem,
             std::string hint);

// ok when `path` starts like a SQLite database and is as long as its header says.
Status check_file_header(const std::string& path);

}  // namespace edgepoll::storage
