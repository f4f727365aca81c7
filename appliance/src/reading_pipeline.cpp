#include "edgepoll/appliance/reading_pipeline.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string_view>

namespace edgepoll::appliance {

namespace {

// A string as nlohmann's dump(-1, ' ', false, replace) writes it. ASCII, which
// is what device ids, metric names and units almost always are, is escaped
// here; anything else goes through nlohmann, for its UTF-8 checks.
void append_string(std::string& out, std::string_view s) {
  const bool ascii =
      std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (!ascii) {
    out += nlohmann::json(std::string(s))
               .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return;
  }
  out += '"';
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\u00";
          out += kHex[(c >> 4) & 0xf];
          out += kHex[c & 0xf];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

template <class Int>
void append_integer(std::string& out, Int v) {
  char buf[24];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

void append_value(std::string& out, const pollers::ReadingValue& value) {
  if (const auto* d = std::get_if<double>(&value)) {
    if (!std::isfinite(*d)) {
      out += "null";  // as nlohmann writes a NaN or an infinity
      return;
    }
    // nlohmann's own shortest round-trip formatting (its dump uses this), so
    // that a reading reads the same as before: 21.0 stays "21.0", not "21".
    char buf[64];
    out.append(buf, nlohmann::detail::to_chars(buf, buf + sizeof buf, *d));
  } else if (const auto* i = std::get_if<std::int64_t>(&value)) {
    append_integer(out, *i);
  } else if (const auto* b = std::get_if<bool>(&value)) {
    out += *b ? "true" : "false";
  } else {
    append_string(out, std::get<std::string>(value));
  }
}

}  // namespace

// Written out by hand: building an nlohmann::json (a std::map per reading) and
// dumping it was a fifth of the event loop's instructions per poll. The bytes
// are the ones nlohmann wrote (keys in its sorted order, a repeated tag name
// keeping its last value); tests/appliance/reading_encoding_test.cpp checks
// that against nlohmann on random readings.
std::string encode_readings(const pollers::DeviceReadings& r) {
  std::string out;
  out.reserve(64 + r.device_id.size() + 64 * r.readings.size());
  out += "{\"device\":";
  append_string(out, r.device_id);
  out += ",\"readings\":[";
  std::vector<const std::pair<std::string, std::string>*> tags;
  for (std::size_t n = 0; n < r.readings.size(); ++n) {
    const auto& reading = r.readings[n];
    if (n > 0) out += ',';
    out += "{\"metric\":";
    append_string(out, reading.metric);
    if (!reading.tags.empty()) {
      tags.clear();
      for (const auto& tag : reading.tags) tags.push_back(&tag);
      std::stable_sort(tags.begin(), tags.end(),
                       [](const auto* a, const auto* b) { return a->first < b->first; });
      out += ",\"tags\":{";
      bool first = true;
      for (std::size_t t = 0; t < tags.size(); ++t) {
        if (t + 1 < tags.size() && tags[t + 1]->first == tags[t]->first)
          continue;  // the last one set wins
        if (!first) out += ',';
        first = false;
        append_string(out, tags[t]->first);
        out += ':';
        append_string(out, tags[t]->second);
      }
      out += '}';
    }
    if (!reading.unit.empty()) {
      out += ",\"unit\":";
      append_string(out, reading.unit);
    }
    out += ",\"value\":";
    append_value(out, reading.value);
    out += '}';
  }
  out += "],\"ts\":";
  append_integer(
      out,
      std::chrono::duration_cast<std::chrono::milliseconds>(r.taken_at.time_since_epoch()).count());
  out += '}';
  return out;
}

ReadingPipeline::ReadingPipeline(std::shared_ptr<storage::WriterHandle> writer, std::size_t buffer_capacity)
    : writer_(std::move(writer)), capacity_(buffer_capacity) {}

void ReadingPipeline::submit(pollers::DeviceReadings readings) {
  stats_.submitted++;
  storage::Reading row{readings.device_id,
                       std::chrono::duration_cast<std::chrono::milliseconds>(readings.taken_at.time_since_epoch()).count(),
                       encode_readings(readings)};
  auto writer = writer_->get();
  std::deque<storage::Reading> backlog;
  {
    std::lock_guard lock(mutex_);
    if (!writer) {
      if (waiting_.size() >= capacity_) {
        drop(row.device_id);
        return;
      }
      waiting_.push_back(std::move(row));
      stats_.buffered = waiting_.size();
      return;
    }
    backlog.swap(waiting_);  // the writer is back: what waited goes first
    stats_.buffered = 0;
    if (!drop_episode_.empty()) {
      std::string devices;
      std::uint64_t total = 0;
      for (const auto& [id, n] : drop_episode_) {
        devices += (devices.empty() ? "" : ",") + id;
        total += n;
      }
      spdlog::warn("pipeline event=drop_episode_ended dropped={} devices={}", total, devices);
      drop_episode_.clear();
    }
  }
  for (auto& waiting : backlog) forward(*writer, std::move(waiting));
  forward(*writer, std::move(row));
}

void ReadingPipeline::forward(storage::BatchWriter& writer, storage::Reading reading) {
  const std::string device = reading.device_id;
  auto stats = stats_holder_;
  auto accepted = writer.submit(std::move(reading), [stats](Result<storage::Ack> ack) {
    (ack.ok() ? stats->stored : stats->store_errors)++;
  });
  if (!accepted.ok()) stats_.dropped++;  // the writer counted and logged it (queue full)
}

void ReadingPipeline::drop(const std::string& device_id) {
  stats_.dropped++;
  if (drop_episode_.empty()) {
    spdlog::error("pipeline event=dropping reason=\"no storage writer and {} readings already waiting\" first_device={}",
                  capacity_, device_id);
  }
  drop_episode_[device_id]++;
}

}  // namespace edgepoll::appliance
