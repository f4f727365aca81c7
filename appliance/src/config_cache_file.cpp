#include "edgepoll/appliance/config_cache_file.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

#include "edgepoll/storage/atomic_file.hpp"

namespace edgepoll::appliance {

namespace {
nlohmann::json file_json(const ConfigFile& f) {
  return {{"path", f.path}, {"text", f.text}};
}

ConfigFile file_from(const nlohmann::json& j) {
  return {j.at("path").get<std::string>(), j.at("text").get<std::string>()};
}

// Where the cache of a main file lives, even when that file fails validation:
// its [storage] path when the TOML can be read at all, else the default.
std::filesystem::path cache_path_for(const std::string& main_path) {
  storage::StoreConfig storage;
  try {
    auto root = toml::parse_file(main_path);
    if (auto p = root["storage"]["path"].value<std::string>()) storage.path = *p;
  } catch (const std::exception&) {
    // Not TOML at all: the default state directory is the only guess left.
  }
  return config_cache_path(storage);
}
}  // namespace

std::filesystem::path config_cache_path(const storage::StoreConfig& storage) {
  const auto dir = std::filesystem::path(storage.path).parent_path();
  return (dir.empty() ? std::filesystem::path(".") : dir) / "config-cache.json";
}

Status write_config_cache(const std::filesystem::path& path, const AppConfig& files,
                          const Overlay& overlay, const EffectiveConfig& effective) {
  nlohmann::json devices = nlohmann::json::array();
  for (const auto& f : files.files.devices) devices.push_back(file_json(f));
  const nlohmann::json j = {
      {"version", 1},
      {"written_at", fmt::format("{:%FT%TZ}", fmt::gmtime(std::time(nullptr)))},
      {"files",
       {{"main", file_json(files.files.main)},
        {"devices_dir", files.files.devices_dir},
        {"devices_note", files.files.devices_note},
        {"devices", devices}}},
      {"overlay", overlay.to_json()},
      {"effective", effective.to_json()},
  };
  return storage::write_file_atomically(path, j.dump(1) + "\n");
}

Result<CachedConfig> read_config_cache(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return make_error("config_cache.missing", path.string() + ": no config cache");
  std::stringstream text;
  text << in.rdbuf();
  const auto j = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return make_error(
        "config_cache.corrupt", path.string() + ": not JSON", false,
        "it is rewritten on the next config change; move it away to start without an overlay");
  }
  CachedConfig c;
  try {
    const auto& files = j.at("files");
    c.files.main = file_from(files.at("main"));
    c.files.devices_dir = files.value("devices_dir", "");
    c.files.devices_note = files.value("devices_note", "");
    for (const auto& f : files.at("devices")) c.files.devices.push_back(file_from(f));
    c.written_at = j.value("written_at", "");
    auto overlay = Overlay::from_json(j.value("overlay", nlohmann::json::object()));
    if (!overlay.ok()) return overlay.take_error();
    c.overlay = std::move(overlay.value());
  } catch (const nlohmann::json::exception& e) {
    return make_error("config_cache.corrupt", path.string() + ": " + e.what());
  }
  return c;
}

Result<BootConfig> load_boot_config(const std::string& main_path) {
  auto files = AppConfig::load(main_path);
  if (files.ok()) return BootConfig{std::move(files.value()), ConfigSource::files, ""};
  const Error failed = files.error();
  const auto path = cache_path_for(main_path);
  auto cached = read_config_cache(path);
  if (!cached.ok()) {
    Error e = failed;
    e.message += " (and no last-good config to boot from: " + cached.error().message + ")";
    return e;
  }
  // Never half a config: the whole last-good file set, or nothing.
  auto config = AppConfig::from_files(cached->files);
  if (!config.ok()) {
    Error e = failed;
    e.message += " (and the last-good cache " + path.string() +
                 " does not validate: " + config.error().message + ")";
    return e;
  }
  spdlog::critical(
      "config files fail validation, booting from the last-good config cached at {} ({} devices, "
      "written {}): {}",
      path.string(), config->devices.size(), cached->written_at, failed.describe());
  return BootConfig{std::move(config.value()), ConfigSource::last_good_cache, failed.describe()};
}

}  // namespace edgepoll::appliance
