#include "file_header.hpp"

#include <array>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

namespace edgepoll::storage {
namespace {


std::uint32_t be32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

}  // namespace

Error refuse(const std::string& path, std::string code, const std::string& problem,
             std::string hint) {
  return make_error(std::move(code),
                    fmt::format("{}: {}; edgepoll refused to open it and left it unchanged", path,
                                problem),
                    false, std::move(hint));
}

Status check_file_header(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) return refuse(path, "storage.unreadable", "cannot read its size: " + ec.message(), "");
  if (size == 0)
    return refuse(path, "storage.truncated", "the file is empty (0 bytes), not a database",
                  kMoveAside);

  std::array<unsigned char, 100> header{};
  std::ifstream in(path, std::ios::binary);
  in.read(reinterpret_cast<char*>(header.data()), header.size());
  const auto got = static_cast<std::size_t>(in.gcount());
  static constexpr char kMagic[] = "SQLite format 3";  // 16 bytes with its NUL
  if (got < sizeof kMagic || std::memcmp(header.data(), kMagic, sizeof kMagic) != 0)
    return refuse(path, "storage.not_sqlite",
                  "not a SQLite database (its first bytes are not \"SQLite format 3\")",
                  "point [storage] path at the edgepoll database, or move this file aside");
  if (got < header.size())
    return refuse(path, "storage.truncated",
                  fmt::format("truncated: {} bytes, shorter than a SQLite header", size),
                  kMoveAside);

  std::uint32_t page_size = (std::uint32_t{header[16]} << 8) | header[17];
  if (page_size == 1) page_size = 65536;
  const std::uint32_t pages = be32(&header[28]);
  // The in-header page count is valid only when its change counter matches.
  const bool count_valid = pages != 0 && be32(&header[24]) == be32(&header[92]);
  // With a non-empty WAL the file may legitimately be shorter mid-checkpoint:
  // the WAL holds the rest, so only a file without one is judged by its length.
  const auto wal_size = fs::file_size(path + "-wal", ec);
  const bool wal_empty = ec || wal_size == 0;
  if (count_valid && wal_empty && static_cast<std::uint64_t>(pages) * page_size > size)
    return refuse(path, "storage.truncated",
                  fmt::format("truncated: {} bytes but its header says {} pages of {} bytes",
                              size, pages, page_size),
                  kMoveAside);
  return ok_status();
}

}  // namespace edgepoll::storage
