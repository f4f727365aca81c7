#pragma once
// <state dir>/config-cache.json: the last files that validated (their text, so
// that a boot from the cache parses exactly what once passed), the overlay of
// Kafka commands, and the effective config with its provenance (for operators).
// Written with storage::write_file_atomically: a crash leaves the old or the
// new cache, never half of one.
#include <filesystem>
#include <string>

#include "edgepoll/appliance/app_config.hpp"
#include "edgepoll/appliance/config_status.hpp"
#include "edgepoll/appliance/effective_config.hpp"

namespace edgepoll::appliance {

// Beside the store: the state directory is the one place the daemon may write.
std::filesystem::path config_cache_path(const storage::StoreConfig& storage);

struct CachedConfig {
  ConfigFiles files;
  Overlay overlay;
  std::string written_at;
};

Status write_config_cache(const std::filesystem::path& path, const AppConfig& files,
                          const Overlay& overlay, const EffectiveConfig& effective);
// "config_cache.missing" when there is none, "config_cache.corrupt" when it does not parse.
Result<CachedConfig> read_config_cache(const std::filesystem::path& path);

// The config the daemon boots with: the files, or, when they fail validation
// and a last-good cache exists, the cache's files (source last_good_cache, the
// files' error as detail). The error of the files when neither works.
struct BootConfig {
  AppConfig config;
  ConfigSource source = ConfigSource::files;
  std::string detail;
};
Result<BootConfig> load_boot_config(const std::string& main_path);

}  // namespace edgepoll::appliance
