#pragma once
// The store's SQLite file, opened for writing by exactly one owner (the writer).
//
// open() checks before it changes anything: a file that is not SQLite, is
// truncated or corrupt, belongs to another application, has a newer schema than
// this build knows, or is locked by another process is refused with an Error
// naming the file, the problem and what to do, and its bytes are left as they
// were. Only a file that passes is switched to WAL and migrated forward.
#include <cstdint>
#include <memory>
#include <string>

#include "edgepoll/storage/store_config.hpp"
#include "edgepoll/supervision/result.hpp"

namespace edgepoll::storage {

class Connection;

class Database {
 public:
  // PRAGMA application_id of an edgepoll store ("EPOL").
  static constexpr std::int32_t kApplicationId = 0x45504F4C;
  // The schema version this build writes (PRAGMA user_version).
  static int schema_version();

  static Result<Database> open(const StoreConfig& config);

  Database(Database&&) noexcept;
  Database& operator=(Database&&) noexcept;
  ~Database();

  const std::string& path() const;
  // For the prerequisites check: ok, or storage.corrupt naming the first problems.
  Status quick_check();
  Status integrity_check();
  // Hard ceiling of the file (PRAGMA max_page_count); 0 lifts it. Lowering it
  // below the current size keeps the data; further growth fails as disk full.
  Status set_max_db_bytes(std::uint64_t bytes);
  // Database size in pages actually used (excludes the free list), in bytes.
  Result<std::uint64_t> used_bytes();

  Connection& connection();

 private:
  struct State;
  explicit Database(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace edgepoll::storage
