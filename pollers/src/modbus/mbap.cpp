#include "edgepoll/pollers/modbus/mbap.hpp"

#include <fmt/format.h>

#include "edgepoll/pollers/modbus/request_plan.hpp"

namespace edgepoll::pollers::mbap {
namespace {

std::uint16_t be16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}
void put16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
Error malformed(std::string code, std::string message) {
  // Retryable: the next poll may well get a good answer.
  return make_error("pollers.modbus." + code, std::move(message), true);
}

}  // namespace

Header parse_header(std::span<const std::uint8_t, kHeaderSize> b) {
  return Header{be16(&b[0]), be16(&b[2]), be16(&b[4]), b[6]};
}

void put_header(std::uint8_t* out, const Header& h) {
  put16(out, h.transaction);
  put16(out + 2, h.protocol);
  put16(out + 4, h.length);
  out[6] = h.unit;
}

Status check_header(const Header& h, std::string_view gateway) {
  if (h.protocol != 0)
    return malformed("bad_protocol_id",
                     fmt::format("gateway {}: protocol id {} in a response (Modbus is 0): "
                                 "not a Modbus TCP frame",
                                 gateway, h.protocol));
  if (h.length < 3)
    return malformed(
        "short_frame",
        fmt::format("gateway {}: MBAP length {} is too short for a unit id, function and data",
                    gateway, h.length));
  if (h.length > kMaxLength)
    return malformed("oversized_length",
                     fmt::format("gateway {}: MBAP length {} exceeds the maximum {}", gateway,
                                 h.length, kMaxLength));
  return ok_status();
}

FrameScan scan_frames(std::span<const std::uint8_t> stream, std::string_view gateway,
                      const FrameHandler& on_frame) {
  FrameScan scan;
  while (stream.size() - scan.consumed >= kHeaderSize) {
    const auto at = stream.subspan(scan.consumed);
    const auto header = parse_header(at.first<kHeaderSize>());
    if (auto ok = check_header(header, gateway); !ok) {
      scan.refused.emplace(ok.error(), header);
      return scan;
    }
    // length counts the unit id (the header's last byte) and the PDU.
    const std::size_t frame = kHeaderSize - 1 + header.length;
    if (at.size() < frame) break;
    on_frame(header, at.subspan(kHeaderSize, header.length - 1));
    scan.consumed += frame;
  }
  return scan;
}

std::array<std::uint8_t, 12> encode_read(const ReadRequest& r) {
  std::array<std::uint8_t, 12> out{};
  put_header(out.data(), Header{r.transaction, 0, 6, r.unit});
  out[7] = static_cast<std::uint8_t>(r.table);
  put16(&out[8], r.address);
  put16(&out[10], r.count);
  return out;
}

std::string exception_code_name(std::uint8_t code) {
  switch (code) {
    case 0x01:
      return "illegal_function";
    case 0x02:
      return "illegal_data_address";
    case 0x03:
      return "illegal_data_value";
    case 0x04:
      return "server_device_failure";
    case 0x05:
      return "acknowledge";
    case 0x06:
      return "server_device_busy";
    case 0x08:
      return "memory_parity_error";
    case 0x0A:
      return "gateway_path_unavailable";
    case 0x0B:
      return "gateway_target_device_failed_to_respond";
    default:
      return fmt::format("exception_{}", code);
  }
}

Error exception_error(std::uint8_t code, std::string_view where) {
  std::string name = exception_code_name(code);
  std::string words = name;
  for (auto& c : words)
    if (c == '_') c = ' ';
  // Busy, acknowledge and the gateway's own failures pass; a wrong address or
  // function is the config's fault and stays until it changes.
  const bool retryable =
      code == 0x04 || code == 0x05 || code == 0x06 || code == 0x0A || code == 0x0B;
  const char* hint =
      code == 0x02 ? "check the field addresses and the device's addressing (zero_based/one_based)"
      : code == 0x0B ? "the gateway got no answer from that unit id on its serial side"
                     : "";
  return make_error("pollers.modbus." + name,
                    fmt::format("{}: exception {} ({})", where, code, words), retryable, hint);
}

Result<std::vector<std::uint16_t>> decode_read_response(const Header& h,
                                                        std::span<const std::uint8_t> body,
                                                        const ReadRequest& r,
                                                        std::string_view where) {
  const auto fc = static_cast<std::uint8_t>(r.table);
  if (h.unit != r.unit)
    return malformed("wrong_unit_id",
                     fmt::format("{}: answer from unit id {} to a request for unit id {}", where,
                                 h.unit, r.unit));
  if (body.empty())
    return malformed("bad_length", fmt::format("{}: response without a function code", where));
  if (body[0] == (fc | 0x80)) {
    if (body.size() != 2)
      return malformed("bad_length", fmt::format("{}: exception response of {} bytes (expected 2)",
                                                 where, body.size()));
    return exception_error(body[1], where);
  }
  if (body[0] != fc)
    return malformed(
        "wrong_function",
        fmt::format("{}: function code {} in the answer to function code {}", where, body[0], fc));
  if (body.size() < 2 || body.size() != 2u + body[1])
    return malformed("bad_length", fmt::format("{}: byte count {} in a PDU of {} bytes", where,
                                               body.size() < 2 ? 0 : body[1], body.size()));
  const bool bits = is_bit_table(r.table);
  const std::size_t expected = bits ? (r.count + 7u) / 8u : 2u * r.count;
  if (body[1] != expected)
    return malformed("wrong_byte_count",
                     fmt::format("{}: {} data bytes for {} {} (expected {})", where, body[1],
                                 r.count, bits ? "bits" : "registers", expected));
  std::vector<std::uint16_t> values(r.count);
  const std::uint8_t* data = body.data() + 2;
  for (std::size_t i = 0; i < r.count; ++i)
    values[i] =
        bits ? static_cast<std::uint16_t>((data[i / 8] >> (i % 8)) & 1u) : be16(data + 2 * i);
  return values;
}

ParsedRead parse_read_pdu(std::span<const std::uint8_t> pdu) {
  ParsedRead p;
  if (pdu.empty()) return ParsedRead{0, 0, 0, 0x01};
  p.function = pdu[0];
  if (p.function < 1 || p.function > 4) {
    p.exception = 0x01;
    return p;
  }
  if (pdu.size() != 5) {
    p.exception = 0x03;
    return p;
  }
  p.address = be16(&pdu[1]);
  p.count = be16(&pdu[3]);
  const unsigned limit = p.function <= 2 ? kMaxReadBits : kMaxReadRegisters;
  if (p.count == 0 || p.count > limit)
    p.exception = 0x03;
  else if (static_cast<unsigned>(p.address) + p.count > 65536u)
    p.exception = 0x02;
  return p;
}

std::vector<std::uint8_t> encode_read_response(std::uint16_t transaction, std::uint8_t unit,
                                               std::uint8_t function,
                                               std::span<const std::uint16_t> values) {
  const bool bits = function <= 2;
  const std::size_t data = bits ? (values.size() + 7) / 8 : values.size() * 2;
  std::vector<std::uint8_t> out(kHeaderSize + 2 + data, 0);
  put_header(out.data(), Header{transaction, 0, static_cast<std::uint16_t>(3 + data), unit});
  out[7] = function;
  out[8] = static_cast<std::uint8_t>(data);
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (bits) {
      if (values[i]) out[9 + i / 8] |= static_cast<std::uint8_t>(1u << (i % 8));
    } else {
      put16(&out[9 + 2 * i], values[i]);
    }
  }
  return out;
}

std::vector<std::uint8_t> encode_exception(std::uint16_t transaction, std::uint8_t unit,
                                           std::uint8_t function, std::uint8_t code) {
  std::vector<std::uint8_t> out(kHeaderSize + 2);
  put_header(out.data(), Header{transaction, 0, 3, unit});
  out[7] = static_cast<std::uint8_t>(function | 0x80);
  out[8] = code;
  return out;
}

}  // namespace edgepoll::pollers::mbap
