#pragma once
// Thin RAII over the SQLite C API, private to the storage library. Every failure
// becomes an Error that names the database file and what was being done.
#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include <sqlite3.h>

#include "edgepoll/supervision/result.hpp"

namespace edgepoll::storage {

// Maps a SQLite result code to the project's error vocabulary: the code says
// what kind of unavailability it is (busy, disk full, read-only, corrupt), the
// retryable flag says whether waiting can help, the hint what an operator can do.
Error sqlite_error(int rc, const std::string& path, std::string_view what,
                   std::string_view detail = {});

class Statement;

class Connection {
 public:
  // flags: SQLITE_OPEN_READONLY or SQLITE_OPEN_READWRITE [| SQLITE_OPEN_CREATE].
  static Result<Connection> open(const std::string& path, int flags,
                                 std::uint32_t busy_timeout_ms);
  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&& other) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  sqlite3* get() const { return db_; }
  const std::string& path() const { return path_; }
  Error error(int rc, std::string_view what) const;

  Status exec(const char* sql, std::string_view what);
  Result<Statement> prepare(const char* sql) const;
  // A single integer from `sql` (a pragma or a count); errors name `what`.
  Result<std::int64_t> scalar(const char* sql, std::string_view what) const;
  // Rolls back a transaction left open by a failed statement; harmless otherwise.
  void rollback_if_open();

 private:
  Connection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_ = nullptr;
  std::string path_;
};

// A prepared statement, reset before each use.
class Statement {
 public:
  Statement(sqlite3_stmt* s, const Connection* c) : stmt_(s), conn_(c) {}
  Statement(Statement&& o) noexcept : stmt_(o.stmt_), conn_(o.conn_) { o.stmt_ = nullptr; }
  Statement& operator=(Statement&& o) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() { sqlite3_finalize(stmt_); }

  Statement& reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    return *this;
  }
  Statement& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Statement& bind_text(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  Statement& bind_blob(int i, std::string_view v) {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  Statement& bind_null(int i) {
    sqlite3_bind_null(stmt_, i);
    return *this;
  }
  // SQLITE_ROW or SQLITE_DONE as a value, anything else as an Error.
  Result<bool> step(std::string_view what);  // true = a row is ready
  Status run(std::string_view what);           // steps to the end, expects no rows

  std::int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string text(int col) const;
  std::string blob(int col) const;

 private:
  sqlite3_stmt* stmt_ = nullptr;
  const Connection* conn_ = nullptr;
};

// BEGIN IMMEDIATE ... COMMIT around `body`; rolls back on any failure so that a
// failed batch leaves neither rows nor sequence numbers behind.
template <class Body>
Status transaction(Connection& c, std::string_view what, Body&& body) {
  if (auto s = c.exec("BEGIN IMMEDIATE", fmt::format("starting a transaction ({})", what)); !s)
    return s;
  if (Status s = body(); !s) {
    c.rollback_if_open();
    return s;
  }
  if (auto s = c.exec("COMMIT", fmt::format("committing ({})", what)); !s) {
    c.rollback_if_open();
    return s;
  }
  return ok_status();
}

}  // namespace edgepoll::storage
