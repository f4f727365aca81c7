// A device's HTTP body through the JSON decoder with a mapping. The input is
//   <pointer> <type>\n ...      the mapping, one metric a line (at most 16)
//   \n                          a blank line
//   <body>                      the device's bytes
// or, without a blank line, the body alone with a fixed mapping of every type.
// Beyond not crashing: every mapped field is a reading or a field error, a
// reading's value has its mapping's type, and the one-pass decode answers as
// the whole document does (decode_through_dom), message for message.
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "edgepoll/pollers/decoder.hpp"
#include "fuzz_support.hpp"
#include "pollers/decoder_agreement.hpp"

namespace {

using namespace edgepoll;
using pollers::MetricMapping;
using pollers::MetricType;

// The mapping of device-sim's normal body, every type once.
std::vector<MetricMapping> every_type() {
  return {
      {"/temperature", "temperature", MetricType::number, "degC"},
      {"/seq", "seq", MetricType::integer, ""},
      {"/online", "online", MetricType::boolean, ""},
      {"/status", "status", MetricType::text, ""},
      {"/sensors/1/v", "second", MetricType::number, "V"}};
}

// "pointer type" lines; nullopt when a line is not one (then the input is a body).
std::optional<std::vector<MetricMapping>> mapping_of(std::string_view lines) {
  std::vector<MetricMapping> mapping;
  while (!lines.empty() && mapping.size() < 16) {
    const auto end = lines.find('\n');
    const auto line = lines.substr(0, end);
    lines = end == std::string_view::npos ? std::string_view{} : lines.substr(end + 1);
    const auto space = line.rfind(' ');
    if (space == std::string_view::npos) return std::nullopt;
    auto type = pollers::parse_metric_type(line.substr(space + 1));
    if (!type) return std::nullopt;
    const std::string pointer(line.substr(0, space));
    mapping.push_back({pointer, "m" + std::to_string(mapping.size()), *type, ""});
  }
  return mapping;
}

bool has_type(const pollers::ReadingValue& value, MetricType type) {
  switch (type) {
    case MetricType::number: return std::holds_alternative<double>(value);
    case MetricType::integer: return std::holds_alternative<std::int64_t>(value);
    case MetricType::boolean: return std::holds_alternative<bool>(value);
    case MetricType::text: return std::holds_alternative<std::string>(value);
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = fuzz::text(data, size);
  std::vector<MetricMapping> mapping = every_type();
  std::string_view body = input;
  if (const auto blank = input.find("\n\n"); blank != std::string_view::npos) {
    if (auto m = mapping_of(input.substr(0, blank)); m && !m->empty()) {
      mapping = std::move(*m);
      body = input.substr(blank + 2);
    }
  }
  // Small limits, so that the size and depth refusals are reached too.
  const pollers::Decoder decoder("fuzz-device", mapping, pollers::DecoderLimits{4096, 16});
  auto outcome = decoder.decode(body);
  fuzz::require(testing::decoder_disagreement(outcome, decoder.decode_through_dom(body)).empty(),
                "decode answers as decode_through_dom does");
  if (!outcome) {
    fuzz::require_readable(outcome.error());
    return 0;
  }
  fuzz::require(outcome->readings.size() + outcome->field_errors.size() == mapping.size(),
                "every mapped field is a reading or a field error");
  for (const auto& e : outcome->field_errors) fuzz::require_readable(e);
  for (const auto& reading : outcome->readings) {
    bool typed = false;
    for (const auto& m : mapping)
      if (m.name == reading.metric) typed = has_type(reading.value, m.type);
    fuzz::require(typed, "a reading has its mapping's type");
  }
  return 0;
}
