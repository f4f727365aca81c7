#pragma once
// Reads the mapped fields of a JSON body without building the document: one
// pass of nlohmann's SAX parser keeps the current path and captures a value
// where the path equals a mapping's RFC 6901 pointer. It answers as the whole
// document would (Decoder::decode_through_dom, the reference): the same
// nesting limit, the same parse errors, the last of duplicate keys, and a
// pointer that does not resolve is simply not captured.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgepoll/pollers/decoder.hpp"

namespace edgepoll::pollers::json_fields {

// One captured value: its JSON type, and its scalar when it is one.
struct Captured {
  enum class Kind : std::uint8_t {
    none,
    null,
    boolean,
    integer,
    unsigned_integer,
    floating,
    string,
    object,
    array
  };
  Kind kind = Kind::none;
  bool boolean = false;
  std::int64_t integer = 0;
  std::uint64_t unsigned_integer = 0;
  double floating = 0;
  std::string text;
};

// True when this reader resolves `pointer` exactly as nlohmann's json_pointer
// would: a well-formed pointer whose numeric tokens cannot overflow an array
// index (nlohmann throws for those; the reference path reports it).
bool resolves_itself(std::string_view pointer);

struct ParseFailure {
  enum class Kind : std::uint8_t { too_deep, parse_error, other } kind;
  std::size_t byte = 0;  // parse_error: where, as nlohmann counts
  std::string what;      // nlohmann's message
};

// Fills `out` (one entry per mapping, in order) from `body`; a failure of the
// body as a whole comes back instead.
std::optional<ParseFailure> extract(std::string_view body,
                                    const std::vector<MetricMapping>& mapping,
                                    std::size_t max_depth, std::vector<Captured>& out);

}  // namespace edgepoll::pollers::json_fields
