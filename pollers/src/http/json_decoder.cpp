#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>

#include "edgepoll/pollers/decoder.hpp"
#include "json_fields.hpp"

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

using json_fields::Captured;

std::string_view type_name(Captured::Kind kind) {
  switch (kind) {
    case Captured::Kind::null:
      return "null";
    case Captured::Kind::boolean:
      return "boolean";
    case Captured::Kind::integer:
    case Captured::Kind::unsigned_integer:
    case Captured::Kind::floating:
      return "number";
    case Captured::Kind::string:
      return "string";
    case Captured::Kind::object:
      return "object";
    case Captured::Kind::array:
      return "array";
    case Captured::Kind::none:
      break;
  }
  return "nothing";
}

// Converts one JSON value to the mapped type, or says why it cannot.
Result<ReadingValue> convert(Captured& v, MetricType type) {
  auto wrong = [&](std::string_view expected) {
    return make_error("wrong_type",
                      fmt::format("expected {}, found {}", expected, type_name(v.kind)));
  };
  switch (type) {
    case MetricType::number:
      if (v.kind == Captured::Kind::floating) return ReadingValue(v.floating);
      if (v.kind == Captured::Kind::integer) return ReadingValue(static_cast<double>(v.integer));
      if (v.kind == Captured::Kind::unsigned_integer)
        return ReadingValue(static_cast<double>(v.unsigned_integer));
      return wrong("a number");
    case MetricType::integer:
      if (v.kind == Captured::Kind::integer) return ReadingValue(v.integer);
      if (v.kind == Captured::Kind::unsigned_integer) {
        if (v.unsigned_integer > INT64_MAX)
          return make_error("wrong_type", "integer out of range of int64");
        return ReadingValue(static_cast<std::int64_t>(v.unsigned_integer));
      }
      return wrong("an integer");
    case MetricType::boolean:
      if (v.kind == Captured::Kind::boolean) return ReadingValue(v.boolean);
      return wrong("a boolean");
    case MetricType::text:
      if (v.kind == Captured::Kind::string) return ReadingValue(std::move(v.text));
      return wrong("a string");
  }
  return wrong("a known type");
}

// A document's value as the SAX reader would have captured it.
Captured captured(const json& v) {
  Captured c;
  switch (v.type()) {
    case json::value_t::boolean:
      c.kind = Captured::Kind::boolean;
      c.boolean = v.get<bool>();
      break;
    case json::value_t::number_integer:
      c.kind = Captured::Kind::integer;
      c.integer = v.get<std::int64_t>();
      break;
    case json::value_t::number_unsigned:
      c.kind = Captured::Kind::unsigned_integer;
      c.unsigned_integer = v.get<std::uint64_t>();
      break;
    case json::value_t::number_float:
      c.kind = Captured::Kind::floating;
      c.floating = v.get<double>();
      break;
    case json::value_t::string:
      c.kind = Captured::Kind::string;
      c.text = v.get<std::string>();
      break;
    case json::value_t::object:
      c.kind = Captured::Kind::object;
      break;
    case json::value_t::array:
      c.kind = Captured::Kind::array;
      break;
    case json::value_t::null:
    case json::value_t::binary:  // binary and discarded never come out of parsing JSON text
    case json::value_t::discarded:
      c.kind = Captured::Kind::null;
      break;
  }
  return c;
}

// The error for a body that did not parse, as either reader reports it.
Error body_failure(const std::string& device, const json_fields::ParseFailure& f,
                   std::size_t body_size, std::size_t max_depth) {
  switch (f.kind) {
    case json_fields::ParseFailure::Kind::too_deep:
      return body_error(device, "too_deep",
                        fmt::format("JSON nested deeper than {} levels", max_depth));
    case json_fields::ParseFailure::Kind::parse_error:
      if (f.byte >= body_size)
        return body_error(device, "truncated",
                          fmt::format("JSON ends early after {} bytes", body_size));
      return body_error(device, "garbage", fmt::format("not JSON at byte {}: {}", f.byte, f.what));
    case json_fields::ParseFailure::Kind::other:
      break;
  }
  return body_error(device, "garbage", f.what);
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
    : device_id_(std::move(device_id)),
      mapping_(std::move(mapping)),
      limits_(limits),
      one_pass_(std::all_of(mapping_->begin(), mapping_->end(), [](const MetricMapping& m) {
        return json_fields::resolves_itself(m.pointer);
      })) {}

std::optional<Error> Decoder::refuse_unparsed(std::string_view body) const {
  if (body.size() > limits_.max_body)
    return body_error(device_id_, "too_large",
                      fmt::format("body of {} bytes exceeds the limit of {} bytes", body.size(),
                                  limits_.max_body),
                      false);
  if (!is_valid_utf8(body)) return body_error(device_id_, "non_utf8", "body is not valid UTF-8");
  return std::nullopt;
}

Result<DecodeOutcome> Decoder::decode(std::string_view body) const {
  if (!one_pass_) return decode_through_dom(body);
  if (auto refused = refuse_unparsed(body)) return std::move(*refused);
  std::vector<Captured> found;
  if (auto failure = json_fields::extract(body, *mapping_, limits_.max_depth, found))
    return body_failure(device_id_, *failure, body.size(), limits_.max_depth);
  DecodeOutcome out;
  out.readings.reserve(mapping_->size());
  for (std::size_t i = 0; i < mapping_->size(); ++i) add_field((*mapping_)[i], found[i], out);
  return finish(std::move(out));
}

Result<DecodeOutcome> Decoder::decode_through_dom(std::string_view body) const {
  if (auto refused = refuse_unparsed(body)) return std::move(*refused);
  // The parser callback bounds nesting: a hostile "[[[[..." must not cost a deep
  // tree. Exceptions of the parser stay inside this function.
  bool too_deep = false;
  const std::size_t max_depth = limits_.max_depth;
  json::parser_callback_t guard = [&](int depth, json::parse_event_t, json&) {
    if (static_cast<std::size_t>(depth) > max_depth) too_deep = true;
    return !too_deep;
  };
  using Failure = json_fields::ParseFailure;
  std::optional<Failure> failure;
  json doc;
  try {
    doc = json::parse(body.begin(), body.end(), guard, /*allow_exceptions=*/true);
  } catch (const json::parse_error& e) {
    failure = Failure{Failure::Kind::parse_error, e.byte, e.what()};
  } catch (const std::exception& e) {
    failure = Failure{Failure::Kind::other, 0, e.what()};
  }
  if (too_deep) failure = Failure{Failure::Kind::too_deep, 0, {}};
  if (failure) return body_failure(device_id_, *failure, body.size(), max_depth);

  DecodeOutcome out;
  out.readings.reserve(mapping_->size());
  for (const auto& m : *mapping_) {
    Captured node;
    try {
      const json::json_pointer ptr(m.pointer);
      if (doc.contains(ptr)) node = captured(doc.at(ptr));
    } catch (const std::exception& e) {
      out.field_errors.push_back(field_error(device_id_, m, "bad_pointer", e.what()));
      continue;
    }
    add_field(m, node, out);
  }
  return finish(std::move(out));
}

void Decoder::add_field(const MetricMapping& m, Captured& value, DecodeOutcome& out) const {
  if (value.kind == Captured::Kind::none) {
    out.field_errors.push_back(field_error(device_id_, m, "missing_field", "not in the body"));
    return;
  }
  auto converted = convert(value, m.type);
  if (!converted) {
    out.field_errors.push_back(
        field_error(device_id_, m, converted.error().code, converted.error().message));
    return;
  }
  out.readings.push_back(Reading{m.name, std::move(converted).value(), m.unit});
}

Result<DecodeOutcome> Decoder::finish(DecodeOutcome out) const {
  if (out.readings.empty() && !mapping_->empty())
    return body_error(device_id_, "no_readings",
                      fmt::format("no mapped field decoded; first problem: {}",
                                  out.field_errors.front().message));
  return out;
}

}  // namespace edgepoll::pollers
