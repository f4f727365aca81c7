#include "edgepoll/appliance/prerequisites.hpp"

#include <sys/statvfs.h>

#include <cstdio>
#include <filesystem>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "edgepoll/storage/database.hpp"

namespace edgepoll::appliance {

using namespace supervision;
namespace fs = std::filesystem;

namespace {

fs::path state_dir(const storage::StoreConfig& config) {
  const fs::path dir = fs::path(config.path).parent_path();
  return dir.empty() ? fs::path(".") : dir;
}

PrerequisiteCheck writable(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return {"state_dir", make_error("prerequisites.state_dir", "state directory " + dir.string() + " does not exist",
                                    false, "create it, owned by the edgepoll user (the package does)"), {}};
  }
  const fs::path probe = dir / ".edgepoll-write-probe";
  std::FILE* f = std::fopen(probe.c_str(), "w");
  if (!f) {
    return {"state_dir", make_error("prerequisites.state_dir", "state directory " + dir.string() + " is not writable",
                                    false, "check its owner and mode"), {}};
  }
  std::fclose(f);
  fs::remove(probe, ec);
  return {"state_dir", ok_status(), dir.string() + " is writable"};
}

PrerequisiteCheck free_space(const fs::path& dir, std::uint64_t floor) {
  struct statvfs st {};
  if (statvfs(dir.c_str(), &st) != 0) {
    return {"free_space", make_error("prerequisites.free_space", "cannot measure the free space of " + dir.string(),
                                     false, "check that the state directory exists"), {}};
  }
  const std::uint64_t free = static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
  if (free < floor) {
    return {"free_space",
            make_error("prerequisites.free_space",
                       fmt::format("state directory {} has {} bytes free, below [storage] min_free_bytes = {}",
                                   dir.string(), free, floor),
                       false, "free space on that filesystem, or lower min_free_bytes"),
            {}};
  }
  return {"free_space", ok_status(), fmt::format("{} has {} bytes free (floor {})", dir.string(), free, floor)};
}

}  // namespace

std::vector<PrerequisiteCheck> check_without_database(const storage::StoreConfig& config) {
  const fs::path dir = state_dir(config);
  std::vector<PrerequisiteCheck> out{writable(dir)};
  if (!out.back().status.ok()) return out;  // free space of a missing directory says nothing new
  out.push_back(free_space(dir, config.min_free_bytes));
  return out;
}

bool report_prerequisites(std::ostream& out, const storage::StoreConfig& config) {
  bool all = true;
  for (const auto& c : check_without_database(config)) {
    if (c.status.ok()) {
      out << "prerequisite " << c.name << ": ok, " << c.detail << "\n";
    } else {
      all = false;
      out << "prerequisite " << c.name << ": REFUSED: " << c.status.error().describe() << "\n";
    }
  }
  return all;
}

InitResult Prerequisites::init(Process&) {
  for (auto& check : check_without_database(config_)) {
    if (!check.status.ok()) return InitResult::error(check.status.take_error());
  }
  if (writer_ && writer_->get()) {
    spdlog::info("prerequisites event=ok store={} database=held_by_the_storage_writer", config_.path);
    return InitResult::ok();
  }
  auto db = storage::Database::open(config_);  // checks file type, schema and integrity
  if (!db.ok()) return InitResult::error(db.error());
  spdlog::info("prerequisites event=ok store={}", config_.path);
  return InitResult::ok();
}

}  // namespace edgepoll::appliance
