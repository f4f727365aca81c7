#pragma once
// Turns a device's JSON body into readings through its configured mapping
// (JSON pointer -> metric name, type, unit). A device's bytes are never trusted:
// garbage, truncation, non-UTF-8, excessive size or nesting, a missing field or a
// field of the wrong type all come back as Error values naming the device and the
// pointer. Nothing here throws out.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "edgepoll/supervision/result.hpp"

namespace edgepoll::pollers {
namespace json_fields {
struct Captured;
}

enum class MetricType { number, integer, boolean, text };

// "float"/"number", "int"/"integer", "bool"/"boolean", "string"/"text".
Result<MetricType> parse_metric_type(std::string_view name);
std::string_view metric_type_name(MetricType type);

struct MetricMapping {
  std::string pointer;  // RFC 6901 JSON pointer into the body, e.g. "/sensors/0/temp"
  std::string name;     // metric name in readings, e.g. "boiler.temperature"
  MetricType type = MetricType::number;
  std::string unit;     // free text, e.g. "degC"; may be empty
  bool operator==(const MetricMapping&) const = default;
};

using ReadingValue = std::variant<double, std::int64_t, bool, std::string>;

struct Reading {
  std::string metric;
  ReadingValue value;
  std::string unit;
  // Name/value pairs that say which instance the value is of, e.g. an SNMP
  // table row's {"ifIndex": "3"}, {"ifDescr": "eth0"}; empty for most readings.
  std::vector<std::pair<std::string, std::string>> tags{};
};

// Readings that decoded, plus the fields that did not (partial data is still
// data; the caller counts field errors per device).
struct DecodeOutcome {
  std::vector<Reading> readings;
  std::vector<Error> field_errors;
};

struct DecoderLimits {
  std::size_t max_body = 1 << 20;  // bytes; larger bodies are rejected unparsed
  std::size_t max_depth = 64;      // nesting depth of arrays/objects
};

class Decoder {
 public:
  Decoder(std::string device_id, std::vector<MetricMapping> mapping, DecoderLimits limits = {});
  // A device's decoder reads the mapping of its (shared) config instead of a copy.
  Decoder(std::string device_id, std::shared_ptr<const std::vector<MetricMapping>> mapping,
          DecoderLimits limits = {});

  // Error codes: pollers.decode.too_large, .non_utf8, .truncated, .garbage,
  // .too_deep, .no_readings (every field failed). Field errors:
  // pollers.decode.missing_field, .wrong_type, .bad_pointer.
  // Reads only the mapped fields, in one pass, without building the document.
  Result<DecodeOutcome> decode(std::string_view body) const;
  // The same answers from the whole document (nlohmann's DOM and its
  // json_pointer): the reference decode() is tested against, and what it uses
  // for the pointers it does not resolve itself (malformed ones, and tokens
  // that nlohmann refuses as array indexes).
  Result<DecodeOutcome> decode_through_dom(std::string_view body) const;

  const std::string& device_id() const { return device_id_; }
  const std::vector<MetricMapping>& mapping() const { return *mapping_; }

 private:
  std::optional<Error> refuse_unparsed(std::string_view body) const;  // too large, not UTF-8
  void add_field(const MetricMapping& m, json_fields::Captured& value, DecodeOutcome& out) const;
  Result<DecodeOutcome> finish(DecodeOutcome out) const;  // no reading at all is a body error

  std::string device_id_;
  std::shared_ptr<const std::vector<MetricMapping>> mapping_;  // never null
  DecoderLimits limits_;
  bool one_pass_;  // every pointer is one json_fields resolves itself: decode() need not build the
                   // document
};

// True when `bytes` is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF).
bool is_valid_utf8(std::string_view bytes);

}  // namespace edgepoll::pollers
