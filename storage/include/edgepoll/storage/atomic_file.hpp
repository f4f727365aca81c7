#pragma once
// Replaces a file so that a reader (or the next boot after a crash or power
// loss) sees either the old content or the new one, never a torn mix: write a
// temporary file beside it, fsync it, rename it over the target, fsync the
// directory so that the rename itself is durable. Used for the config cache.
#include <filesystem>
#include <string_view>

#include "edgepoll/supervision/result.hpp"

namespace edgepoll::storage {

Status write_file_atomically(const std::filesystem::path& path, std::string_view bytes);

}  // namespace edgepoll::storage
