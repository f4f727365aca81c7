#include "edgepoll/storage/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace edgepoll::storage {
namespace {

Error io_error(const std::filesystem::path& path, std::string_view what, int err) {
  const bool full = err == ENOSPC || err == EDQUOT;
  return make_error(full ? "storage.disk_full" : "storage.io_error",
                    fmt::format("{}: {} failed: {}", path.string(), what, std::strerror(err)),
                    true,
                    full ? "free disk space" : "check the directory's permissions and the disk");
}

Status write_all(int fd, std::string_view bytes, const std::filesystem::path& tmp) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error(tmp, "writing", errno);
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return ok_status();
}

}  // namespace

Status write_file_atomically(const std::filesystem::path& path, std::string_view bytes) {
  const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  const auto tmp = std::filesystem::path(path.string() + fmt::format(".tmp.{}", ::getpid()));
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return io_error(tmp, "creating the temporary file", errno);
  Status s = write_all(fd, bytes, tmp);
  if (s && ::fsync(fd) != 0) s = io_error(tmp, "fsync", errno);
  if (::close(fd) != 0 && s) s = io_error(tmp, "closing", errno);
  if (s && ::rename(tmp.c_str(), path.c_str()) != 0) s = io_error(path, "renaming into place", errno);
  if (!s) {
    ::unlink(tmp.c_str());  // the old file stays as it was
    return s;
  }
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return io_error(dir, "opening the directory for fsync", errno);
  const int rc = ::fsync(dfd);
  const int err = errno;
  ::close(dfd);
  if (rc != 0) return io_error(dir, "fsync of the directory", err);
  return ok_status();
}

}  // namespace edgepoll::storage
