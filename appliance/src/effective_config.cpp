#include "edgepoll/appliance/effective_config.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <set>

#include "edgepoll/appliance/command_bridge.hpp"

namespace edgepoll::appliance {

std::string CommandOrigin::describe() const {
  return "command " + (command_id.empty() ? std::string("(no id)") : command_id) + ", " + position +
         ", " + time;
}

CommandOrigin CommandOrigin::now(const kafka::Command& command) {
  return {command.id, command.source,
          fmt::format("{:%FT%TZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(
                                       std::chrono::system_clock::now())))};
}

namespace {

nlohmann::json origin_json(const CommandOrigin& o) {
  return {{"command", o.command_id}, {"position", o.position}, {"time", o.time}};
}

// A device config sent by a command, with [pollers.defaults] filled in as for
// a [[device]] table of the files.
Result<pollers::DeviceConfig> overlay_device(const nlohmann::json& config, const std::string& id,
                                             const toml::table& defaults) {
  auto table = json_to_toml(config);
  if (!table.ok()) return table.take_error();
  if (!table->contains("id")) table->insert("id", id);
  for (const auto& [key, node] : defaults) {
    if (!table->contains(key.str())) table->insert(key, node);
  }
  auto parsed = pollers::DeviceConfig::parse(table.value());
  if (!parsed.ok()) {
    Error e = parsed.take_error();
    e.code = "command.invalid";
    return e;
  }
  if (parsed->id != id) {
    return make_error("command.invalid",
                      "config.id '" + parsed->id + "' differs from device '" + id + "'");
  }
  return parsed;
}

// Copy on write: a device's config and key origins are the files' own, shared,
// until a command changes them.
pollers::DeviceConfig& own_config(EffectiveDevice& d) {
  auto copy = std::make_shared<pollers::DeviceConfig>(*d.config);
  pollers::DeviceConfig& writable = *copy;
  d.config = std::move(copy);
  return writable;
}

KeyOrigins& own_keys(EffectiveDevice& d) {
  auto copy = std::make_shared<KeyOrigins>(*d.keys);
  KeyOrigins& writable = *copy;
  d.keys = std::move(copy);
  return writable;
}

}  // namespace

nlohmann::json Overlay::to_json() const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [id, e] : devices) {
    nlohmann::json j = nlohmann::json::object();
    if (e.config) j["config"] = *e.config;
    if (e.removed) j["removed"] = true;
    if (e.enabled) j["enabled"] = *e.enabled;
    if (e.interval_ms) j["interval_ms"] = *e.interval_ms;
    j["origins"] = nlohmann::json::object();
    for (const auto& [field, o] : e.origins) j["origins"][field] = origin_json(o);
    out[id] = std::move(j);
  }
  return out;
}

Result<Overlay> Overlay::from_json(const nlohmann::json& j) {
  if (!j.is_object()) return make_error("config_cache.corrupt", "overlay: expected an object");
  Overlay o;
  try {
    for (auto it = j.begin(); it != j.end(); ++it) {
      const std::string& id = it.key();
      const nlohmann::json& e = it.value();
      OverlayEntry entry;
      if (e.contains("config")) entry.config = e.at("config");
      entry.removed = e.value("removed", false);
      if (e.contains("enabled")) entry.enabled = e.at("enabled").get<bool>();
      if (e.contains("interval_ms")) entry.interval_ms = e.at("interval_ms").get<std::int64_t>();
      const auto origins = e.value("origins", nlohmann::json::object());
      for (auto o = origins.begin(); o != origins.end(); ++o) {
        entry.origins[o.key()] = {o->value("command", ""), o->value("position", ""),
                                  o->value("time", "")};
      }
      o.devices[id] = std::move(entry);
    }
  } catch (const nlohmann::json::exception& e) {
    return make_error("config_cache.corrupt", std::string("overlay: ") + e.what());
  }
  return o;
}

const EffectiveDevice* EffectiveConfig::find(const std::string& id) const {
  for (const auto& d : devices) {
    if (d.config->id == id) return &d;
  }
  return nullptr;
}

pollers::ApplyDevices EffectiveConfig::to_apply() const {
  pollers::ApplyDevices out;
  for (const auto& d : devices) {
    out.devices.push_back(d.config);
    if (!d.enabled) out.disabled.insert(d.config->id);
  }
  return out;
}

nlohmann::json EffectiveConfig::to_json() const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& d : devices) {
    list.push_back({{"id", d.config->id},
                    {"enabled", d.enabled},
                    {"defined_at", d.defined_at},
                    {"keys", *d.keys}});
  }
  return {{"devices", list}, {"notes", notes}};
}

EffectiveConfig build_effective(const AppConfig& files, const Overlay& overlay) {
  EffectiveConfig out;
  out.devices.reserve(files.devices.size() + overlay.devices.size());
  const auto& defaults = files.pollers.defaults;
  auto apply_fields = [&](EffectiveDevice& d, const OverlayEntry& e) {
    if (e.interval_ms) {
      own_config(d).interval = std::chrono::milliseconds(*e.interval_ms);
      own_keys(d)["interval"] = e.origins.at("interval").describe();
    }
    if (e.enabled) {
      d.enabled = *e.enabled;
      own_keys(d)["enabled"] = e.origins.at("enabled").describe();
    }
  };
  // Replaces a device's config by the overlay's, every key from the command.
  auto from_command = [&](EffectiveDevice& d, const std::string& id,
                          const OverlayEntry& e) -> bool {
    auto parsed = overlay_device(*e.config, id, defaults);
    if (!parsed.ok()) {
      out.notes.push_back("overlay config of '" + id +
                          "' no longer valid, files kept: " + parsed.error().describe());
      return false;
    }
    d.config = std::make_shared<const pollers::DeviceConfig>(std::move(parsed.value()));
    const std::string origin = e.origins.at("config").describe();
    auto keys = std::make_shared<KeyOrigins>();
    for (const auto& [key, v] : e.config->items()) (*keys)[key] = origin;
    add_default_origins(files, *keys);
    d.keys = std::move(keys);
    return true;
  };
  std::set<std::string> in_files;
  for (const auto& shared : files.devices) {
    const pollers::DeviceConfig& c = *shared;
    in_files.insert(c.id);
    EffectiveDevice d{shared, true, {}, {}};
    if (auto s = files.device_sources.find(c.id); s != files.device_sources.end()) {
      d.defined_at = s->second.defined_at;
      d.keys = s->second.keys;
    }
    if (!d.keys) d.keys = std::make_shared<const KeyOrigins>();
    if (auto it = overlay.devices.find(c.id); it != overlay.devices.end()) {
      const OverlayEntry& e = it->second;
      if (e.removed) {
        out.notes.push_back("'" + c.id + "' (" + d.defined_at + ") removed by " +
                            e.origins.at("removed").describe());
        continue;
      }
      if (e.config && from_command(d, c.id, e))
        d.defined_at += ", replaced by " + e.origins.at("config").describe();
      apply_fields(d, e);
    }
    out.devices.push_back(std::move(d));
  }
  for (const auto& [id, e] : overlay.devices) {
    if (in_files.count(id) || e.removed) continue;
    if (!e.config) {
      out.notes.push_back("overlay entry for '" + id + "' ignored: the files no longer define it");
      continue;
    }
    EffectiveDevice d;
    if (!from_command(d, id, e)) continue;
    d.defined_at = "added by " + e.origins.at("config").describe() + "; not in the files";
    apply_fields(d, e);
    out.devices.push_back(std::move(d));
  }
  return out;
}

Status apply_command(Overlay& overlay, const EffectiveConfig& now, const kafka::Command& c,
                     const CommandOrigin& origin) {
  using kafka::CommandType;
  const bool exists = now.find(c.device) != nullptr;
  if (c.type == CommandType::poll_now) {
    return make_error("command.invalid",
                      "poll_now changes no config; it goes to the config manager");
  }
  if (c.type == CommandType::add_device || c.type == CommandType::replace_device) {
    auto json = nlohmann::json::parse(c.device_config, nullptr, /*allow_exceptions=*/false);
    // Checked now, so that a bad config is refused (dead-lettered), not cached.
    // (Defaults only fill keys it lacks, and they are valid: none needed here.)
    static const toml::table kNoDefaults;
    auto parsed = overlay_device(json, c.device, kNoDefaults);
    if (!parsed.ok()) return parsed.take_error();
    OverlayEntry& e = overlay.devices[c.device];
    e.config = std::move(json);
    e.removed = false;
    e.interval_ms.reset();  // the new config carries its own interval
    e.origins.erase("removed");
    e.origins.erase("interval");
    e.origins["config"] = origin;
    return ok_status();
  }
  if (!exists) {
    return make_error("command.unknown_device", "no device '" + c.device + "' is configured", false,
                      "add it first (add_device) or check the id");
  }
  OverlayEntry& e = overlay.devices[c.device];
  switch (c.type) {
    case CommandType::remove_device:
      e = OverlayEntry{};
      e.removed = true;
      e.origins["removed"] = origin;
      break;
    case CommandType::disable_device:
    case CommandType::enable_device:
      e.enabled = c.type == CommandType::enable_device;
      e.origins["enabled"] = origin;
      break;
    case CommandType::set_poll_interval:
      e.interval_ms = c.interval.count();
      e.origins["interval"] = origin;
      break;
    default:
      break;
  }
  return ok_status();
}

DeviceDiff diff_devices(const EffectiveConfig& before, const EffectiveConfig& after) {
  std::map<std::string, const EffectiveDevice*> old;  // by id: configs hold thousands of devices
  for (const auto& b : before.devices) old[b.config->id] = &b;
  DeviceDiff d;
  for (const auto& a : after.devices) {
    auto it = old.find(a.config->id);
    if (it == old.end()) {
      d.added.push_back(a.config->id);
      continue;
    }
    const bool same_config = it->second->config == a.config || *it->second->config == *a.config;
    if (!same_config || it->second->enabled != a.enabled) d.changed.push_back(a.config->id);
    old.erase(it);
  }
  for (const auto& [id, b] : old) d.removed.push_back(id);
  return d;
}

}  // namespace edgepoll::appliance
