#include "sqlite.hpp"

#include <utility>

#include <fmt/format.h>

namespace edgepoll::storage {

Error sqlite_error(int rc, const std::string& path, std::string_view what,
                   std::string_view detail) {
  const std::string msg =
      fmt::format("{}: {} failed: {}{}{}", path, what, sqlite3_errstr(rc),
                  detail.empty() ? "" : ": ", detail);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return make_error("storage.busy", msg, true,
                        "another process holds a lock on the database; stop it or wait");
    case SQLITE_FULL:
      return make_error("storage.disk_full", msg, true,
                        "free disk space or raise the storage budget; writing resumes by itself");
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_CANTOPEN:
      return make_error("storage.read_only", msg, true,
                        "check that the file and its directory are writable by edgepoll and "
                        "the file system is mounted read-write");
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return make_error("storage.corrupt", msg, false,
                        "stop edgepoll, move the file aside (keep it for analysis) and restart "
                        "to begin with an empty store");
    case SQLITE_IOERR:
      return make_error("storage.io_error", msg, true, "check the disk and the kernel log");
    default:
      return make_error("storage.sqlite", msg, false);
  }
}

Result<Connection> Connection::open(const std::string& path, int flags,
                                    std::uint32_t busy_timeout_ms) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Error e = sqlite_error(rc, path, "opening the database", db ? sqlite3_errmsg(db) : "");
    sqlite3_close_v2(db);
    return e;
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, static_cast<int>(busy_timeout_ms));
  return Connection(db, path);
}

Connection::Connection(Connection&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), path_(std::move(other.path_)) {}

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
    path_ = std::move(other.path_);
  }
  return *this;
}

Connection::~Connection() { sqlite3_close_v2(db_); }

Error Connection::error(int rc, std::string_view what) const {
  return sqlite_error(rc, path_, what, db_ ? sqlite3_errmsg(db_) : "");
}

Status Connection::exec(const char* sql, std::string_view what) {
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return error(rc, what);
  return ok_status();
}

Result<Statement> Connection::prepare(const char* sql) const {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return error(rc, fmt::format("preparing \"{}\"", sql));
  return Statement(stmt, this);
}

Result<std::int64_t> Connection::scalar(const char* sql, std::string_view what) const {
  auto stmt = prepare(sql);
  if (!stmt) return stmt.take_error();
  auto row = stmt->step(what);
  if (!row) return row.take_error();
  if (!*row) return make_error("storage.sqlite", fmt::format("{}: {}: no result", path_, what));
  return stmt->int64(0);
}

void Connection::rollback_if_open() {
  if (db_ != nullptr && sqlite3_get_autocommit(db_) == 0)
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

Statement& Statement::operator=(Statement&& o) noexcept {
  if (this != &o) {
    sqlite3_finalize(stmt_);
    stmt_ = std::exchange(o.stmt_, nullptr);
    conn_ = o.conn_;
  }
  return *this;
}

Result<bool> Statement::step(std::string_view what) {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return conn_->error(rc, what);
}

Status Statement::run(std::string_view what) {
  auto r = step(what);
  if (!r) return r.take_error();
  return ok_status();
}

std::string Statement::text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
           : std::string();
}

std::string Statement::blob(int col) const {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
           : std::string();
}

}  // namespace edgepoll::storage
