#pragma once
// Where the running configuration came from, for /ready, STATUS= and the CLI.
// Written by the config cache (on the event loop), read by the health side.
#include <mutex>
#include <string>

namespace edgepoll::appliance {

enum class ConfigSource { files, last_good_cache };

inline const char* to_string(ConfigSource s) { return s == ConfigSource::files ? "files" : "last_good_cache"; }

class ConfigStatus {
 public:
  struct Snapshot {
    ConfigSource source = ConfigSource::files;
    std::string detail;  // why the cache is in use, e.g. the validation error of the files
  };
  void set(ConfigSource source, std::string detail) {
    std::lock_guard lock(mutex_);
    now_ = {source, std::move(detail)};
  }
  Snapshot get() const {
    std::lock_guard lock(mutex_);
    return now_;
  }

 private:
  mutable std::mutex mutex_;
  Snapshot now_;
};

}  // namespace edgepoll::appliance
