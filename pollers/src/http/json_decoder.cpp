#include "edgepoll/pollers/decoder.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace edgepoll::pollers {
namespace {

using nlohmann::json;

Error body_error(const std::string& device, std::string code, std::string what,
                 bool retryable = true) {
  return make_error("pollers.decode." + code, fmt::format("device \"{}\": {}", device, what),
                    retryable, "check the device's firmware or the mapping in its config");
}

Error field_error(const std::string& device, const MetricMapping& m, std::string code,
                  std::string what) {
  return make_error("pollers.decode." + code,
                    fmt::format("device \"{}\": pointer \"{}\" (metric \"{}\"): {}", device,
                                m.pointer, m.name, what),
                    false, "fix the mapping or the device");
}

// Converts one JSON value to the mapped type, or says why it cannot.
Result<ReadingValue> convert(const json& v, MetricType type) {
  auto wrong = [&](std::string_view expected) {
    return make_error("wrong_type", fmt::format("expected {}, found {}", expected, v.type_name()));
  };
  switch (type) {
    case MetricType::number:
      if (v.is_number()) return ReadingValue(v.get<double>());
      return wrong("a number");
    case MetricType::integer:
      if (v.is_number_integer()) {
        if (v.is_number_unsigned() && v.get<std::uint64_t>() > INT64_MAX)
          return make_error("wrong_type", "integer out of range of int64");
        return ReadingValue(v.get<std::int64_t>());
      }
      return wrong("an integer");
    case MetricType::boolean:
      if (v.is_boolean()) return ReadingValue(v.get<bool>());
      return wrong("a boolean");
    case MetricType::text:
      if (v.is_string()) return ReadingValue(v.get<std::string>());
      return wrong("a string");
  }
  return wrong("a known type");
}

}  // namespace

Result<MetricType> parse_metric_type(std::string_view name) {
  if (name == "float" || name == "number" || name == "double") return MetricType::number;
  if (name == "int" || name == "integer") return MetricType::integer;
  if (name == "bool" || name == "boolean") return MetricType::boolean;
  if (name == "string" || name == "text") return MetricType::text;
  return make_error("pollers.config.bad_type",
                    fmt::format("\"{}\" is not a metric type (expected float, int, bool or string)",
                                name));
}

std::string_view metric_type_name(MetricType type) {
  switch (type) {
    case MetricType::number: return "float";
    case MetricType::integer: return "int";
    case MetricType::boolean: return "bool";
    case MetricType::text: return "string";
  }
  return "?";
}

bool is_valid_utf8(std::string_view s) {
  std::size_t i = 0;
  const auto n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) { ++i; continue; }
    std::size_t len;
    std::uint32_t cp;
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
    else return false;
    if (i + len > n) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr std::uint32_t min_for_len[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_for_len[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

Decoder::Decoder(std::string device_id, std::vector<MetricMapping> mapping, DecoderLimits limits)
    : Decoder(std::move(device_id),
              std::make_shared<const std::vector<MetricMapping>>(std::move(mapping)), limits) {}

Decoder::Decoder(std::string device_id, std::shared_ptr<const std::vector<MetricMapping>> mapping,
                 DecoderLimits limits)
    : device_id_(std::move(device_id)), mapping_(std::move(mapping)), limits_(limits) {}

Result<DecodeOutcome> Decoder::decode(std::string_view body) const {
  if (body.size() > limits_.max_body)
    return body_error(device_id_, "too_large",
                      fmt::format("body of {} bytes exceeds the limit of {} bytes", body.size(),
                                  limits_.max_body),
                      false);
  if (!is_valid_utf8(body))
    return body_error(device_id_, "non_utf8", "body is not valid UTF-8");

  // The parser callback bounds nesting: a hostile "[[[[..." must not cost a deep
  // tree. Exceptions of the parser stay inside this function.
  bool too_deep = false;
  const std::size_t max_depth = limits_.max_depth;
  json::parser_callback_t guard = [&](int depth, json::parse_event_t, json&) {
    if (static_cast<std::size_t>(depth) > max_depth) too_deep = true;
    return !too_deep;
  };
  json doc;
  try {
    doc = json::parse(body.begin(), body.end(), guard, /*allow_exceptions=*/true);
  } catch (const json::parse_error& e) {
    if (too_deep)
      return body_error(device_id_, "too_deep",
                        fmt::format("JSON nested deeper than {} levels", max_depth));
    if (e.byte >= body.size())
      return body_error(device_id_, "truncated",
                        fmt::format("JSON ends early after {} bytes", body.size()));
    return body_error(device_id_, "garbage",
                      fmt::format("not JSON at byte {}: {}", e.byte, e.what()));
  } catch (const std::exception& e) {
    return body_error(device_id_, "garbage", e.what());
  }
  if (too_deep)
    return body_error(device_id_, "too_deep",
                      fmt::format("JSON nested deeper than {} levels", max_depth));

  DecodeOutcome out;
  out.readings.reserve(mapping_->size());
  for (const auto& m : *mapping_) {
    const json* node = nullptr;
    try {
      const json::json_pointer ptr(m.pointer);
      if (doc.contains(ptr)) node = &doc.at(ptr);
    } catch (const std::exception& e) {
      out.field_errors.push_back(field_error(device_id_, m, "bad_pointer", e.what()));
      continue;
    }
    if (node == nullptr) {
      out.field_errors.push_back(field_error(device_id_, m, "missing_field", "not in the body"));
      continue;
    }
    auto value = convert(*node, m.type);
    if (!value) {
      out.field_errors.push_back(
          field_error(device_id_, m, value.error().code, value.error().message));
      continue;
    }
    out.readings.push_back(Reading{m.name, std::move(value).value(), m.unit});
  }
  if (out.readings.empty() && !mapping_->empty())
    return body_error(device_id_, "no_readings",
                      fmt::format("no mapped field decoded; first problem: {}",
                                  out.field_errors.front().message));
  return out;
}

}  // namespace edgepoll::pollers
