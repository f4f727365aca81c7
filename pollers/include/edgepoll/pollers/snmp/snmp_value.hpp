#pragma once
// SNMP values as edgepoll keeps them once net-snmp has parsed an answer (no
// net-snmp type leaves pollers/src/snmp/), and their conversion to readings:
//
//   INTEGER              -> int
//   Counter32, Gauge32   -> int
//   Counter64            -> int (a double above 2^63 - 1)
//   TimeTicks            -> float seconds (the agent counts hundredths)
//   OctetString          -> text (valid UTF-8), hex ("00:1a:2b"), or automatic:
//                           text when printable UTF-8, else hex
//   IpAddress            -> text "a.b.c.d";  OBJECT IDENTIFIER -> dotted text
//   Opaque               -> hex
//   noSuchObject, noSuchInstance, endOfMibView, NULL -> a per-field error value
//     (pollers.snmp.no_such_object, .no_such_instance, .end_of_mib_view, .null)
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgepoll/pollers/decoder.hpp"
#include "edgepoll/supervision/result.hpp"

struct variable_list;  // net-snmp's netsnmp_variable_list

namespace edgepoll::pollers {

using Oid = std::vector<std::uint32_t>;
// "1.3.6.1.2.1.1.3.0" (a leading dot is allowed); nullopt unless 2-128 sub-ids.
std::optional<Oid> parse_oid(std::string_view dotted);
std::string oid_text(const Oid& oid);
// True when `oid` lies under `prefix` (and is longer).
bool oid_under(const Oid& oid, const Oid& prefix);

enum class SnmpType {
  integer,
  octet_string,
  object_id,
  ip_address,
  counter32,
  gauge32,
  timeticks,
  opaque,
  counter64,
  null,
  no_such_object,
  no_such_instance,
  end_of_mib_view,
  other,
};
std::string_view snmp_type_name(SnmpType type);

struct SnmpValue {
  SnmpType type = SnmpType::null;
  std::int64_t integer = 0;    // integer
  std::uint64_t unsigned_ = 0;  // counter32, gauge32, timeticks, counter64
  std::string bytes;           // octet_string, opaque, ip_address (4 bytes)
  Oid object_id;               // object_id
};

struct SnmpVarbind {
  Oid oid;
  SnmpValue value;
};

// Copies a net-snmp varbind (as parsed from an answer) into our own types.
SnmpVarbind varbind_from_netsnmp(const variable_list& var);

enum class OctetFormat { automatic, text, hex };

// The value of `field` in a reading. Errors: pollers.snmp.no_such_object,
// .no_such_instance, .end_of_mib_view, .null, .not_text (format = "text" and
// bytes that are not UTF-8), .unsupported_type.
Result<ReadingValue> convert_value(const SnmpValue& value, OctetFormat format);
// A counter's raw count, for rates (nullopt for other types).
std::optional<std::uint64_t> counter_value(const SnmpValue& value);
// Per-second rate of a counter between two samples `seconds` apart; a smaller
// second sample is one wrap of a Counter32 (or Counter64) when `wrap_bits` says so.
double counter_rate(std::uint64_t before, std::uint64_t after, double seconds, int wrap_bits);

}  // namespace edgepoll::pollers
