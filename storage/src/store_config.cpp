#include "edgepoll/storage/store_config.hpp"

#include "edgepoll/supervision/config_keys.hpp"

#include <array>
#include <string_view>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace edgepoll::storage {
namespace {

constexpr std::array<std::string_view, 11> kKeys = {
    "path",           "synchronous",      "batch_max_rows", "batch_max_delay_ms",
    "queue_capacity", "max_outbox_bytes", "max_outbox_age_s", "max_db_bytes",
    "busy_timeout_ms", "readers", "min_free_bytes"};

Error wrong(std::string_view key, std::string_view expected) {
  return make_error("storage.config.invalid",
                    fmt::format("[storage] key \"{}\": expected {}", key, expected), false,
                    "correct the value in the configuration file");
}

template <class Unsigned>
Status integer(const toml::table& t, std::string_view key, Unsigned& out, std::int64_t min) {
  const auto* node = t.get(key);
  if (node == nullptr) return ok_status();
  const auto* v = node->as_integer();
  if (v == nullptr || v->get() < min) return wrong(key, fmt::format("an integer >= {}", min));
  out = static_cast<Unsigned>(v->get());
  return ok_status();
}

}  // namespace

Result<StoreConfig> StoreConfig::parse(const toml::table& t) {
  StoreConfig c;
  if (auto known = reject_unknown_keys(t, "[storage]", kKeys, "storage.config.unknown_key"); !known.ok()) {
    return known.take_error();
  }
  if (const auto* node = t.get("path")) {
    const auto* v = node->as_string();
    if (v == nullptr || v->get().empty()) return wrong("path", "a non-empty file path");
    c.path = v->get();
  }
  if (const auto* node = t.get("synchronous")) {
    const auto* v = node->as_string();
    if (v != nullptr && v->get() == "NORMAL") c.synchronous = Synchronous::normal;
    else if (v != nullptr && v->get() == "FULL") c.synchronous = Synchronous::full;
    else return wrong("synchronous", "\"NORMAL\" or \"FULL\"");
  }
  Status checks[] = {
      integer(t, "batch_max_rows", c.batch_max_rows, 1),
      integer(t, "batch_max_delay_ms", c.batch_max_delay_ms, 0),
      integer(t, "queue_capacity", c.queue_capacity, 1),
      integer(t, "max_outbox_bytes", c.max_outbox_bytes, 0),
      integer(t, "max_outbox_age_s", c.max_outbox_age_s, 0),
      integer(t, "max_db_bytes", c.max_db_bytes, 0),
      integer(t, "busy_timeout_ms", c.busy_timeout_ms, 0),
      integer(t, "readers", c.readers, 1),
      integer(t, "min_free_bytes", c.min_free_bytes, 0),
  };
  for (auto& s : checks)
    if (!s) return s.take_error();
  return c;
}

}  // namespace edgepoll::storage
