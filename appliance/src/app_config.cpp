#include "edgepoll/appliance/app_config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <system_error>

#include "edgepoll/pollers/duration.hpp"
#include "edgepoll/supervision/config_keys.hpp"

namespace edgepoll::appliance {

namespace {
Error in_file(const std::string& source, Error e) {
  e.message = source + ": " + e.message;
  return e;
}

// Keys a [pollers.defaults] table may give every device: not the ones that
// name one device (id, url, metrics, auth).
constexpr std::string_view kDefaultableKeys[] = {"interval", "timeout", "max_body", "verify_tls",
                                                 "ca_file",  "intensity", "breaker"};

Status parse_defaults(const toml::table& t, toml::table& out) {
  if (auto s = reject_unknown_keys(t, "[pollers.defaults]", kDefaultableKeys); !s.ok()) return s;
  // Checked once here, through the device parser itself, so that a bad default
  // is named as one and not as an error of every device that inherits it.
  toml::table probe = t;
  probe.insert("id", "defaults");
  probe.insert("url", "http://defaults/");
  auto d = pollers::DeviceConfig::parse(probe);
  if (!d.ok()) {
    Error e = d.take_error();
    e.message = "[pollers.defaults] (line " + std::to_string(t.source().begin.line) + "): " + e.message;
    return e;
  }
  out = t;
  return ok_status();
}
}  // namespace

Result<PollersConfig> PollersConfig::parse(const toml::table& t) {
  if (auto s = reject_unknown_keys(t, "[pollers]", std::initializer_list<std::string_view>{
                                                     "backoff_base", "backoff_cap", "stable_after",
                                                     "max_consecutive_failures", "devices_dir", "defaults"});
      !s.ok()) {
    return s.take_error();
  }
  PollersConfig c;
  // "[pollers] key (line N)": every error names the line of its key.
  auto at = [&](const char* key) {
    const auto* node = t.get(key);
    std::string where = std::string("[pollers] ") + key;
    return node ? where + " (line " + std::to_string(node->source().begin.line) + ")" : where;
  };
  auto duration = [&](const char* key, supervision::Duration& out) -> Status {
    auto n = t[key];
    if (!n) return ok_status();
    auto text = n.value<std::string>();
    if (!text) return make_error("config.type", at(key) + ": expected a duration like \"10s\"");
    auto d = pollers::parse_duration(*text, at(key));
    if (!d.ok()) return d.take_error();
    out = d.value();
    return ok_status();
  };
  for (auto [key, out] : {std::pair{"backoff_base", &c.manager.backoff_base},
                          std::pair{"backoff_cap", &c.manager.backoff_cap},
                          std::pair{"stable_after", &c.manager.stable_after}}) {
    if (auto s = duration(key, *out); !s.ok()) return s.take_error();
  }
  if (auto n = t["max_consecutive_failures"]; n) {
    auto v = integer_value(n);
    if (!v || *v < 1 || *v > 1000) {
      return make_error("config.type", at("max_consecutive_failures") + ": expected an integer 1..1000");
    }
    c.max_consecutive_failures = static_cast<unsigned>(*v);
  }
  if (auto n = t["devices_dir"]; n) {
    auto v = n.value<std::string>();
    if (!v || v->empty()) return make_error("config.type", at("devices_dir") + ": expected a directory path");
    c.devices_dir = *v;
    c.devices_dir_set = true;
  }
  if (auto n = t["defaults"]; n) {
    const auto* d = n.as_table();
    if (!d) return make_error("config.type", at("defaults") + ": expected a table of device keys");
    if (auto s = parse_defaults(*d, c.defaults); !s.ok()) return s.take_error();
    for (const auto& [key, node] : *d) c.default_lines[std::string(key.str())] = node.source().begin.line;
  }
  if (c.manager.backoff_base > c.manager.backoff_cap) {
    return make_error("config.value", at("backoff_base") + ": must not exceed backoff_cap");
  }
  return c;
}

std::string display_name(const std::string& path, const std::string& main_path) {
  const auto dir = std::filesystem::path(main_path).parent_path().lexically_normal();
  const auto rel = std::filesystem::path(path).lexically_normal().lexically_relative(dir);
  if (rel.empty() || rel.native().rfind("..", 0) == 0) return path;
  return rel.string();
}

void add_default_origins(const AppConfig& config, KeyOrigins& keys) {
  if (config.pollers.default_lines.empty()) return;
  const std::string file = display_name(config.source, config.source);
  for (const auto& [key, line] : config.pollers.default_lines) {
    if (!keys.count(key)) keys[key] = file + ":" + std::to_string(line) + " ([pollers.defaults])";
  }
}

namespace {

std::string at(const toml::source_region& where, const std::string& main_path) {
  const std::string file = where.path ? display_name(*where.path, main_path) : "?";
  return file + ":" + std::to_string(where.begin.line);
}

Result<toml::table> parse_toml(const ConfigFile& file) {
  try {
    return toml::parse(file.text, file.path);  // Debian's toml++ reports syntax errors by exception
  } catch (const toml::parse_error& e) {
    return make_error("config.syntax",
                      file.path + ":" + std::to_string(e.source().begin.line) + ":" +
                          std::to_string(e.source().begin.column) + ": not valid TOML: " + std::string(e.description()),
                      false, "fix the TOML syntax at that line");
  }
}

// The [[device]] tables of one file, with [pollers.defaults] filled in and the
// file and line of every key. `first_seen` spans files: an id defined twice is
// an error naming both places.
Status parse_devices(const toml::table& root, const std::string& file, AppConfig& c,
                     std::map<std::string, std::string>& first_seen) {
  auto devices = root["device"];
  std::size_t count = 0;
  if (devices) {
    const auto* arr = devices.as_array();
    if (!arr) {
      return make_error("config.type", file + " line " + std::to_string(devices.node()->source().begin.line) +
                                           ": 'device' must be an array of tables: [[device]]");
    }
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const auto* given = (*arr)[i].as_table();
      const auto line = (*arr)[i].source().begin.line;
      const std::string which = "[[device]] #" + std::to_string(i + 1) + " (line " + std::to_string(line) + ")";
      if (!given)
        return make_error("config.type", fmt::format("{}: {} is not a table", file, which));
      toml::table merged = *given;
      for (const auto& [key, node] : c.pollers.defaults) {
        if (!merged.contains(key.str())) merged.insert(key, node);
      }
      // Copied nodes lose their source region: the table as written names the line of a bad key.
      auto d = pollers::DeviceConfig::parse(c.pollers.defaults.empty() ? *given : merged);
      if (!d.ok() && !c.pollers.defaults.empty()) {
        if (auto plain = pollers::DeviceConfig::parse(*given); !plain.ok()) d = std::move(plain);
      }
      if (!d.ok()) {
        Error e = d.take_error();
        e.message = which + ": " + e.message;
        return in_file(file, e);
      }
      const std::string here = file + ":" + std::to_string(line);
      if (auto [it, fresh] = first_seen.try_emplace(d->id, here); !fresh) {
        return make_error("config.duplicate_device", "device id \"" + d->id + "\" is defined twice: at " +
                                                         it->second + " and at " + here,
                          false, "device ids are unique across the main file and every devices.d file");
      }
      // Lines come from the table as written (copies lose them).
      auto keys = std::make_shared<KeyOrigins>();
      for (const auto& [key, node] : *given)
        (*keys)[std::string(key.str())] = at(node.source(), c.source);
      add_default_origins(c, *keys);
      c.device_sources[d->id] = DeviceSource{at(given->source(), c.source), std::move(keys)};
      c.devices.push_back(std::make_shared<const pollers::DeviceConfig>(std::move(d.value())));
      ++count;
    }
  }
  c.devices_per_file.emplace_back(display_name(file, c.source), count);
  return ok_status();
}

std::string section_as_text(const toml::table& root, const char* name) {
  const auto* t = root[name].as_table();
  if (!t) return "";
  std::ostringstream out;
  out << *t;
  return out.str();
}

Result<AppConfig> parse_main(const toml::table& root, const std::string& source) {
  if (auto s = reject_unknown_keys(root, "top level",
                                   std::initializer_list<std::string_view>{"node", "storage", "health", "pollers",
                                                                           "device", "kafka", "registration", "control", "chaos"});
      !s.ok()) {
    return in_file(source, s.take_error());
  }
  AppConfig c;
  c.source = source;
  auto section = [&](const char* name) -> Result<const toml::table*> {
    auto n = root[name];
    if (!n) return static_cast<const toml::table*>(nullptr);
    if (!n.as_table()) {
      return make_error("config.type", source + " line " + std::to_string(n.node()->source().begin.line) + ": '" +
                                           name + "' must be a table: [" + name + "]");
    }
    return n.as_table();
  };
  for (const char* name : {"node", "storage", "kafka", "health", "control", "registration", "pollers", "chaos"}) {
    c.section_text[name] = section_as_text(root, name);
    auto t = section(name);
    if (!t.ok()) return t.take_error();
  }
  auto run = [&](const char* name, auto parse, auto& out) -> Status {
    const auto* t = *section(name);
    if (!t) return ok_status();
    auto v = parse(*t);
    if (!v.ok()) return in_file(source, v.take_error());
    out = std::move(v.value());
    return ok_status();
  };
  if (auto s = run("node", NodeConfig::parse, c.node); !s.ok()) return s.take_error();
  if (auto s = run("storage", storage::StoreConfig::parse, c.storage); !s.ok()) return s.take_error();
  if (auto s = run("kafka", kafka::KafkaConfig::parse, c.kafka); !s.ok()) return s.take_error();
  if (auto s = run("health", HealthConfig::parse, c.health); !s.ok()) return s.take_error();
  if (auto s = run("control", ControlConfig::parse, c.control); !s.ok()) return s.take_error();
  if (auto s = run("registration", RegistrationConfig::parse, c.registration); !s.ok()) return s.take_error();
  if (auto s = run("pollers", PollersConfig::parse, c.pollers); !s.ok()) return s.take_error();
  if (auto s = run("chaos", ChaosConfig::parse, c.chaos); !s.ok()) return s.take_error();
  return c;
}

// The whole file, or an error naming it and why it cannot be read.
Result<std::string> read_text(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return make_error("config.unreadable", path + ": cannot read: it is a directory", false,
                      "a config file must be a regular file");
  }
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    return make_error(
        "config.unreadable",
        path + ": cannot read: " + std::error_code(errno, std::generic_category()).message(), false,
        "check that it exists and that the edgepoll user may read it");
  }
  std::string text;
  char buf[8192];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return make_error("config.unreadable", path + ": reading failed", false, "check the disk");
  return text;
}

}  // namespace

Result<AppConfig> AppConfig::parse(std::string_view text, const std::string& source) {
  auto root = parse_toml({source, std::string(text)});
  if (!root.ok()) return root.take_error();
  auto c = parse_main(root.value(), source);
  if (!c.ok()) return c;
  std::map<std::string, std::string> seen;
  if (auto s = parse_devices(root.value(), source, c.value(), seen); !s.ok()) return s.take_error();
  c->files.main = {source, std::string(text)};
  return c;
}

Result<ConfigFiles> AppConfig::read_files(const std::string& path) {
  namespace fs = std::filesystem;
  ConfigFiles files;
  auto text = read_text(path);
  if (!text.ok()) return text.take_error();
  files.main = {path, std::move(text.value())};
  // Where devices.d is comes from the main file; its other errors are
  // reported by from_files.
  std::string dir = "devices.d";
  bool explicit_dir = false;
  if (auto root = parse_toml(files.main); root.ok()) {
    if (auto d = root.value()["pollers"]["devices_dir"].value<std::string>(); d && !d->empty()) {
      dir = *d;
      explicit_dir = true;
    }
  }
  fs::path resolved(dir);
  if (resolved.is_relative()) resolved = fs::path(path).parent_path() / resolved;
  files.devices_dir = resolved.lexically_normal().string();
  std::error_code ec;
  if (!fs::exists(resolved, ec)) {
    if (explicit_dir) {
      return make_error("config.devices_dir", path + ": [pollers] devices_dir \"" + dir + "\": " +
                                                  files.devices_dir + " does not exist",
                        false, "create it or correct devices_dir");
    }
    files.devices_note = files.devices_dir + " does not exist: no device files";
    return files;
  }
  if (!fs::is_directory(resolved, ec)) {
    return make_error("config.devices_dir", files.devices_dir + ": expected a directory of *.toml device files");
  }
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(resolved, ec)) {
    if (entry.path().extension() == ".toml") names.push_back(entry.path().string());
  }
  if (ec) return make_error("config.unreadable", files.devices_dir + ": cannot list: " + ec.message());
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    auto t = read_text(name);
    if (!t.ok()) return t.take_error();
    files.devices.push_back({name, std::move(t.value())});
  }
  if (files.devices.empty()) files.devices_note = files.devices_dir + " holds no *.toml files: no device files";
  return files;
}

Result<AppConfig> AppConfig::from_files(const ConfigFiles& files) {
  auto root = parse_toml(files.main);
  if (!root.ok()) return root.take_error();
  auto c = parse_main(root.value(), files.main.path);
  if (!c.ok()) return c;
  std::map<std::string, std::string> seen;
  if (auto s = parse_devices(root.value(), files.main.path, c.value(), seen); !s.ok()) return s.take_error();
  for (const auto& file : files.devices) {
    auto t = parse_toml(file);
    if (!t.ok()) return t.take_error();
    if (auto s = reject_unknown_keys(t.value(), "top level", std::initializer_list<std::string_view>{"device"});
        !s.ok()) {
      Error e = in_file(file.path, s.take_error());
      e.hint = "a devices.d file holds only [[device]] tables";
      return e;
    }
    if (auto s = parse_devices(t.value(), file.path, c.value(), seen); !s.ok()) return s.take_error();
  }
  c->files = files;
  return c;
}

Result<AppConfig> AppConfig::load(const std::string& path) {
  auto files = read_files(path);
  if (!files.ok()) return files.take_error();
  return from_files(files.value());
}

}  // namespace edgepoll::appliance
