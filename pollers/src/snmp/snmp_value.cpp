#include "edgepoll/pollers/snmp/snmp_value.hpp"

#include <fmt/format.h>

#include <charconv>
#include <limits>

#include "netsnmp.hpp"

namespace edgepoll::pollers {

std::optional<Oid> parse_oid(std::string_view s) {
  if (!s.empty() && s.front() == '.') s.remove_prefix(1);
  Oid out;
  while (!s.empty()) {
    const auto dot = s.find('.');
    const auto part = s.substr(0, dot);
    std::uint32_t v = 0;
    const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (part.empty() || ec != std::errc{} || end != part.data() + part.size()) return std::nullopt;
    out.push_back(v);
    if (dot == std::string_view::npos) break;
    s.remove_prefix(dot + 1);
    if (s.empty()) return std::nullopt;  // a trailing dot
  }
  if (out.size() < 2 || out.size() > 128) return std::nullopt;
  return out;
}

std::string oid_text(const Oid& oid) {
  std::string out;
  for (std::size_t i = 0; i < oid.size(); ++i) {
    if (i) out += '.';
    out += std::to_string(oid[i]);
  }
  return out;
}

bool oid_under(const Oid& oid, const Oid& prefix) {
  return oid.size() > prefix.size() && std::equal(prefix.begin(), prefix.end(), oid.begin());
}

std::string_view snmp_type_name(SnmpType type) {
  switch (type) {
    case SnmpType::integer: return "INTEGER";
    case SnmpType::octet_string: return "OCTET STRING";
    case SnmpType::object_id: return "OBJECT IDENTIFIER";
    case SnmpType::ip_address: return "IpAddress";
    case SnmpType::counter32: return "Counter32";
    case SnmpType::gauge32: return "Gauge32";
    case SnmpType::timeticks: return "TimeTicks";
    case SnmpType::opaque: return "Opaque";
    case SnmpType::counter64: return "Counter64";
    case SnmpType::null: return "NULL";
    case SnmpType::no_such_object: return "noSuchObject";
    case SnmpType::no_such_instance: return "noSuchInstance";
    case SnmpType::end_of_mib_view: return "endOfMibView";
    case SnmpType::other: return "an unknown type";
  }
  return "?";
}

SnmpVarbind varbind_from_netsnmp(const variable_list& var) {
  SnmpVarbind out;
  out.oid.assign(var.name, var.name + var.name_length);
  auto& v = out.value;
  const auto bytes = [&var] {
    return var.val.string ? std::string(reinterpret_cast<const char*>(var.val.string), var.val_len)
                          : std::string();
  };
  switch (var.type) {
    case ASN_INTEGER:
      v.type = SnmpType::integer;
      v.integer = var.val.integer ? *var.val.integer : 0;
      break;
    case ASN_OCTET_STR:
      v.type = SnmpType::octet_string;
      v.bytes = bytes();
      break;
    case ASN_OPAQUE:
      v.type = SnmpType::opaque;
      v.bytes = bytes();
      break;
    case ASN_IPADDRESS:
      v.type = SnmpType::ip_address;
      v.bytes = bytes();
      break;
    case ASN_OBJECT_ID:
      v.type = SnmpType::object_id;
      if (var.val.objid)
        v.object_id.assign(var.val.objid, var.val.objid + var.val_len / sizeof(oid));
      break;
    case ASN_COUNTER:
    case ASN_GAUGE:
    case ASN_TIMETICKS:
      v.type = var.type == ASN_COUNTER ? SnmpType::counter32
               : var.type == ASN_GAUGE ? SnmpType::gauge32
                                       : SnmpType::timeticks;
      // net-snmp keeps 32-bit unsigned values in a long; only the low 32 bits are the value.
      v.unsigned_ = var.val.integer ? static_cast<std::uint32_t>(*var.val.integer) : 0;
      break;
    case ASN_COUNTER64:
      v.type = SnmpType::counter64;
      if (var.val.counter64)
        v.unsigned_ = (static_cast<std::uint64_t>(var.val.counter64->high) << 32) |
                      static_cast<std::uint32_t>(var.val.counter64->low);
      break;
    case ASN_NULL: v.type = SnmpType::null; break;
    case SNMP_NOSUCHOBJECT: v.type = SnmpType::no_such_object; break;
    case SNMP_NOSUCHINSTANCE: v.type = SnmpType::no_such_instance; break;
    case SNMP_ENDOFMIBVIEW: v.type = SnmpType::end_of_mib_view; break;
    default:
      v.type = SnmpType::other;
      v.integer = var.type;
      v.bytes = bytes();
      break;
  }
  return out;
}

namespace {

std::string hex(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 3);
  static constexpr char kDigits[] = "0123456789abcdef";
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    if (i) out += ':';
    out += kDigits[b >> 4];
    out += kDigits[b & 0xf];
  }
  return out;
}

// Text a person would read: UTF-8 without control characters (a trailing NUL,
// which many agents send, is dropped by the caller).
bool printable(std::string_view s) {
  if (!is_valid_utf8(s)) return false;
  for (unsigned char c : s)
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return false;
  return true;
}

Error field_error(const char* code, std::string message) {
  return make_error(code, std::move(message), false);
}

}  // namespace

Result<ReadingValue> convert_value(const SnmpValue& v, OctetFormat format) {
  switch (v.type) {
    case SnmpType::integer: return ReadingValue{v.integer};
    case SnmpType::counter32:
    case SnmpType::gauge32: return ReadingValue{static_cast<std::int64_t>(v.unsigned_)};
    case SnmpType::counter64:
      if (v.unsigned_ > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return ReadingValue{static_cast<double>(v.unsigned_)};
      return ReadingValue{static_cast<std::int64_t>(v.unsigned_)};
    case SnmpType::timeticks: return ReadingValue{static_cast<double>(v.unsigned_) / 100.0};
    case SnmpType::octet_string: {
      std::string_view text = v.bytes;
      if (!text.empty() && text.back() == '\0') text.remove_suffix(1);
      if (format == OctetFormat::hex) return ReadingValue{hex(v.bytes)};
      if (format == OctetFormat::text) {
        if (!is_valid_utf8(text))
          return field_error("pollers.snmp.not_text",
                             "OCTET STRING is not UTF-8 text (format = \"hex\" reads it as bytes)");
        return ReadingValue{std::string(text)};
      }
      return ReadingValue{printable(text) ? std::string(text) : hex(v.bytes)};
    }
    case SnmpType::opaque: return ReadingValue{hex(v.bytes)};
    case SnmpType::ip_address: {
      if (v.bytes.size() != 4)
        return field_error("pollers.snmp.bad_value",
                           fmt::format("IpAddress of {} bytes (4 expected)", v.bytes.size()));
      const auto* b = reinterpret_cast<const unsigned char*>(v.bytes.data());
      return ReadingValue{fmt::format("{}.{}.{}.{}", b[0], b[1], b[2], b[3])};
    }
    case SnmpType::object_id: return ReadingValue{oid_text(v.object_id)};
    case SnmpType::no_such_object:
      return field_error("pollers.snmp.no_such_object", "the agent has no such object (noSuchObject)");
    case SnmpType::no_such_instance:
      return field_error("pollers.snmp.no_such_instance",
                         "the agent has no such instance (noSuchInstance)");
    case SnmpType::end_of_mib_view:
      return field_error("pollers.snmp.end_of_mib_view", "past the agent's last object (endOfMibView)");
    case SnmpType::null: return field_error("pollers.snmp.null", "the agent answered NULL");
    case SnmpType::other: break;
  }
  return field_error("pollers.snmp.unsupported_type",
                     fmt::format("unsupported ASN.1 type 0x{:02x}", static_cast<unsigned>(v.integer)));
}

std::optional<std::uint64_t> counter_value(const SnmpValue& v) {
  if (v.type == SnmpType::counter32 || v.type == SnmpType::counter64) return v.unsigned_;
  return std::nullopt;
}

double counter_rate(std::uint64_t before, std::uint64_t after, double seconds, int wrap_bits) {
  std::uint64_t delta = after - before;  // unsigned arithmetic: one Counter64 wrap is exact
  if (after < before && wrap_bits == 32) delta = (after + (std::uint64_t{1} << 32)) - before;
  return seconds > 0 ? static_cast<double>(delta) / seconds : 0.0;
}

}  // namespace edgepoll::pollers
