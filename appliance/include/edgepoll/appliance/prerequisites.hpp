#pragma once
// The prerequisites worker, first child of the root: refuses to boot on a node
// that cannot keep its promise (nothing lost). Its init failing fails the
// root's start with failed_to_start_child, naming the check.
//
//   state_dir   the store's directory exists and is writable
//   free_space  its filesystem has at least [storage] min_free_bytes free
//   database    the store opens and passes its checks (takes the database's lock)
//
// It stays running after its init (transient: a crash restarts it). Restarted
// while this node's storage writer holds the store, it skips the database
// check: the writer opened the file through the same checks and holds its
// lock, so a second open would only meet our own lock, fail the restart at
// every retry and end the root (a chaos kill of root/prerequisites did).
#include <ostream>
#include <string>
#include <vector>

#include "edgepoll/storage/storage_pool.hpp"
#include "edgepoll/storage/store_config.hpp"
#include "edgepoll/supervision/process.hpp"

namespace edgepoll::appliance {

struct PrerequisiteCheck {
  std::string name;  // state_dir, free_space
  Status status;     // an error names the path and the number
  std::string detail;  // what was measured, when ok
};

// The checks that need no lock on the database (--check-config runs these).
std::vector<PrerequisiteCheck> check_without_database(const storage::StoreConfig& config);

// Runs check_without_database and prints one line per check ("prerequisite
// free_space: ok, ..." or the refusal); true when all passed. For --check-config.
bool report_prerequisites(std::ostream& out, const storage::StoreConfig& config);

class Prerequisites final : public supervision::Behaviour {
 public:
  // `writer`: this node's storage writer, when one runs (null: always open the store).
  explicit Prerequisites(storage::StoreConfig config, std::shared_ptr<const storage::WriterHandle> writer = nullptr)
      : config_(std::move(config)), writer_(std::move(writer)) {}
  supervision::InitResult init(supervision::Process& self) override;

 private:
  storage::StoreConfig config_;
  std::shared_ptr<const storage::WriterHandle> writer_;
};

}  // namespace edgepoll::appliance
