#include "edgepoll/storage/database.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "file_header.hpp"
#include "schema.hpp"
#include "sqlite.hpp"

namespace edgepoll::storage {
namespace {

constexpr const char* kLockedHint =
    "another process (a second edgepoll, or a sqlite3 shell) is using the file: stop it, then "
    "start edgepoll again";

// One owner per file: an flock(2) on the database file itself. It is independent
// of SQLite's own fcntl(2) locks, and the kernel drops it when the owner dies.
Result<int> take_owner_lock(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return refuse(path, "storage.unreadable", fmt::format("cannot open it: {}", std::strerror(errno)),
                  "check the file's permissions");
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return refuse(path, "storage.locked", "locked by another edgepoll process", kLockedHint);
  }
  return fd;
}

// Translates a SQLite failure during the boot checks into a refusal.
Error refuse_sqlite(const std::string& path, const Error& e) {
  if (e.code == "storage.busy")
    return refuse(path, "storage.locked", "locked by another process (" + e.message + ")",
                  kLockedHint);
  if (e.code == "storage.corrupt")
    return refuse(path, "storage.corrupt", "corrupt (" + e.message + ")", kMoveAside);
  return refuse(path, e.code, e.message, e.hint);
}

// The first problems PRAGMA quick_check / integrity_check reports, "" when ok.
Result<std::string> check_problems(const Connection& c, const char* pragma) {
  auto stmt = c.prepare(pragma);
  if (!stmt) return stmt.take_error();
  std::string problems;
  int n = 0;
  while (true) {
    auto row = stmt->step(pragma);
    if (!row) return row.take_error();
    if (!*row) break;
    auto line = stmt->text(0);
    if (line == "ok") continue;
    if (n++ < 3) problems += (problems.empty() ? "" : "; ") + line;
  }
  return problems;
}

// Everything that can be decided with a read-only connection. Returns the
// schema version found (0 for an empty SQLite file we may initialise).
Result<std::int64_t> verify_read_only(const std::string& path, const StoreConfig& cfg) {
  auto ro = Connection::open(path, SQLITE_OPEN_READONLY, cfg.busy_timeout_ms);
  if (!ro) return refuse_sqlite(path, ro.error());
  auto app = ro->scalar("PRAGMA application_id", "reading application_id");
  if (!app) return refuse_sqlite(path, app.error());
  auto version = ro->scalar("PRAGMA user_version", "reading user_version");
  if (!version) return refuse_sqlite(path, version.error());
  auto objects = ro->scalar("SELECT count(*) FROM sqlite_master", "reading the schema");
  if (!objects) return refuse_sqlite(path, objects.error());
  const bool empty = *app == 0 && *version == 0 && *objects == 0;
  if (!empty && *app != Database::kApplicationId)
    return refuse(path, "storage.foreign",
                  fmt::format("a SQLite database of another application (application_id {:#x}, "
                              "{} schema objects), not an edgepoll store",
                              *app, *objects),
                  "point [storage] path at the edgepoll database, or move this file aside");
  if (*version > Database::schema_version())
    return refuse(path, "storage.newer_schema",
                  fmt::format("written by a newer edgepoll (schema version {}, this build knows "
                              "up to {})",
                              *version, Database::schema_version()),
                  "run the edgepoll version that wrote it (downgrades are not supported), or "
                  "move the file aside to start with an empty store");
  auto problems = check_problems(*ro, "PRAGMA quick_check");
  if (!problems) return refuse_sqlite(path, problems.error());
  if (!problems->empty())
    return refuse(path, "storage.corrupt", "corrupt: " + *problems, kMoveAside);
  return *version;
}

Status migrate(Connection& c, std::int64_t from) {
  const auto& all = migrations();
  if (from == static_cast<std::int64_t>(all.size())) return ok_status();
  if (auto s = c.exec("BEGIN IMMEDIATE", "starting the schema migration"); !s) return s;
  for (auto v = static_cast<std::size_t>(from); v < all.size(); ++v) {
    if (auto s = c.exec(all[v], fmt::format("migrating the schema to version {}", v + 1)); !s) {
      c.rollback_if_open();
      return s;
    }
  }
  const auto stamp = fmt::format("PRAGMA application_id = {}; PRAGMA user_version = {};",
                                 Database::kApplicationId, all.size());
  if (auto s = c.exec(stamp.c_str(), "stamping the schema version"); !s) {
    c.rollback_if_open();
    return s;
  }
  if (auto s = c.exec("COMMIT", "committing the schema migration"); !s) {
    c.rollback_if_open();
    return s;
  }
  return ok_status();
}

}  // namespace

struct Database::State {
  StoreConfig config;
  std::unique_ptr<Connection> conn;
  int lock_fd = -1;
  ~State() {
    conn.reset();  // close SQLite (checkpoint) before giving up ownership
    if (lock_fd >= 0) ::close(lock_fd);
  }
};

int Database::schema_version() { return static_cast<int>(migrations().size()); }

Result<Database> Database::open(const StoreConfig& config) {
  namespace fs = std::filesystem;
  const std::string& path = config.path;
  auto state = std::make_unique<State>();
  state->config = config;
  std::error_code ec;
  std::int64_t version = 0;
  if (fs::exists(path, ec)) {
    if (!fs::is_regular_file(path, ec))
      return refuse(path, "storage.not_a_file", "not a regular file",
                    "point [storage] path at a file");
    auto lock = take_owner_lock(path);
    if (!lock) return lock.take_error();
    state->lock_fd = *lock;
    if (auto s = check_file_header(path); !s) return s.take_error();
    auto v = verify_read_only(path, config);
    if (!v) return v.take_error();
    version = *v;
  } else {
    const auto dir = fs::path(path).parent_path();
    if (!dir.empty() && !fs::is_directory(dir, ec))
      return make_error("storage.no_directory",
                        fmt::format("{}: directory {} does not exist", path, dir.string()), false,
                        "create the state directory or fix [storage] path");
  }

  auto rw = Connection::open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                             config.busy_timeout_ms);
  if (!rw) return rw.take_error();
  state->conn = std::make_unique<Connection>(std::move(*rw));
  Connection& c = *state->conn;
  if (state->lock_fd < 0) {  // a file we just created
    auto lock = take_owner_lock(path);
    if (!lock) return lock.take_error();
    state->lock_fd = *lock;
  }
  // A write lock probe before the first change: another process's open write
  // transaction makes us refuse here, with the file still untouched.
  if (auto s = c.exec("BEGIN IMMEDIATE; COMMIT;", "taking the write lock"); !s) {
    c.rollback_if_open();
    return refuse_sqlite(path, s.error());
  }
  const char* sync = config.synchronous == Synchronous::full ? "PRAGMA synchronous = FULL"
                                                             : "PRAGMA synchronous = NORMAL";
  for (const char* pragma : {"PRAGMA journal_mode = WAL", sync, "PRAGMA foreign_keys = ON"}) {
    if (auto s = c.exec(pragma, pragma); !s) return refuse_sqlite(path, s.error());
  }
  if (auto s = migrate(c, version); !s) return s.take_error();
  Database db(std::move(state));
  if (config.max_db_bytes > 0) {
    if (auto s = db.set_max_db_bytes(config.max_db_bytes); !s) return s.take_error();
  }
  return db;
}

Database::Database(std::unique_ptr<State> state) : state_(std::move(state)) {}
Database::Database(Database&&) noexcept = default;
Database& Database::operator=(Database&&) noexcept = default;
Database::~Database() = default;

const std::string& Database::path() const { return state_->config.path; }
Connection& Database::connection() { return *state_->conn; }

Status Database::quick_check() {
  auto p = check_problems(*state_->conn, "PRAGMA quick_check");
  if (!p) return p.take_error();
  if (!p->empty())
    return make_error("storage.corrupt", path() + ": quick_check failed: " + *p, false, kMoveAside);
  return ok_status();
}

Status Database::integrity_check() {
  auto p = check_problems(*state_->conn, "PRAGMA integrity_check");
  if (!p) return p.take_error();
  if (!p->empty())
    return make_error("storage.corrupt", path() + ": integrity_check failed: " + *p, false,
                      kMoveAside);
  return ok_status();
}

Status Database::set_max_db_bytes(std::uint64_t bytes) {
  auto page = state_->conn->scalar("PRAGMA page_size", "reading page_size");
  if (!page) return page.take_error();
  // SQLite's own maximum when lifted; never below one page.
  const std::uint64_t pages = bytes == 0 ? 4294967294ull
                                         : std::max<std::uint64_t>(1, bytes / *page);
  const auto sql = fmt::format("PRAGMA max_page_count = {}", pages);
  auto set = state_->conn->scalar(sql.c_str(), "setting max_page_count");
  if (!set) return set.take_error();
  return ok_status();
}

Result<std::uint64_t> Database::used_bytes() {
  auto& c = *state_->conn;
  auto pages = c.scalar("PRAGMA page_count", "reading page_count");
  if (!pages) return pages.take_error();
  auto free_pages = c.scalar("PRAGMA freelist_count", "reading freelist_count");
  if (!free_pages) return free_pages.take_error();
  auto page = c.scalar("PRAGMA page_size", "reading page_size");
  if (!page) return page.take_error();
  return static_cast<std::uint64_t>((*pages - *free_pages) * *page);
}

}  // namespace edgepoll::storage
