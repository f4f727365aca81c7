#pragma once
// Modbus TCP framing (the MBAP header of the Modbus Messaging on TCP/IP
// Implementation Guide, and the PDUs of function codes 01-04), as pure
// functions over bytes: the client, the simulator and the tests share them.
// A frame is [transaction id:2][protocol id:2 = 0][length:2][unit id:1][PDU],
// where length counts the unit id and the PDU (so 2..254).
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "edgepoll/pollers/modbus/modbus_config.hpp"
#include "edgepoll/supervision/result.hpp"

namespace edgepoll::pollers::mbap {

inline constexpr std::size_t kHeaderSize = 7;
inline constexpr std::uint16_t kMaxLength = 254;  // unit id + the 253-byte maximum PDU

struct Header {
  std::uint16_t transaction = 0;
  std::uint16_t protocol = 0;
  std::uint16_t length = 0;
  std::uint8_t unit = 0;
};

Header parse_header(std::span<const std::uint8_t, kHeaderSize> bytes);
void put_header(std::uint8_t* out, const Header& header);

// Checks a response header before its body is read. Errors:
// pollers.modbus.bad_protocol_id, pollers.modbus.short_frame (length < 3),
// pollers.modbus.oversized_length (length > 254). Any of them means the byte
// stream cannot be trusted any more: the connection is closed.
Status check_header(const Header& header, std::string_view gateway);

// Walks the whole frames at the front of a response stream (what a gateway
// connection has received so far), calling `on_frame(header, body)` for each;
// `body` is the PDU after the unit id. Stops at the first frame that has not
// all arrived, or at a header check_header refuses (then `refused` holds its
// error and that header, whose unit id names the suspect; the stream is lost).
struct FrameScan {
  std::size_t consumed = 0;  // bytes of the whole frames handed to on_frame
  std::optional<std::pair<Error, Header>> refused;
};
using FrameHandler = std::function<void(const Header&, std::span<const std::uint8_t>)>;
FrameScan scan_frames(std::span<const std::uint8_t> stream, std::string_view gateway,
                      const FrameHandler& on_frame);

// What a read asked for, to validate its answer against.
struct ReadRequest {
  std::uint16_t transaction = 0;
  std::uint8_t unit = 0;
  ModbusTable table = ModbusTable::holding;
  std::uint16_t address = 0;
  std::uint16_t count = 0;
};

std::array<std::uint8_t, 12> encode_read(const ReadRequest& request);

// The registers (or one 0/1 per bit) of a response to `request`; `body` is the
// PDU after the unit id (header.length - 1 bytes). Errors name the mismatch:
// pollers.modbus.wrong_unit_id, .wrong_function, .bad_length, .wrong_byte_count,
// and an exception response becomes pollers.modbus.<exception>, e.g.
// pollers.modbus.illegal_data_address (see exception_code_name).
Result<std::vector<std::uint16_t>> decode_read_response(const Header& header,
                                                        std::span<const std::uint8_t> body,
                                                        const ReadRequest& request,
                                                        std::string_view where);

// "illegal_function", "illegal_data_address", "illegal_data_value",
// "server_device_failure", "acknowledge", "server_device_busy",
// "memory_parity_error", "gateway_path_unavailable",
// "gateway_target_device_failed_to_respond"; "exception_<n>" for others.
std::string exception_code_name(std::uint8_t code);
Error exception_error(std::uint8_t code, std::string_view where);

// ---- server side (the simulator) ----
// A read request's PDU (after the unit id): function code 1-4, address, count
// within the protocol's limits; otherwise the exception code to answer with.
struct ParsedRead {
  std::uint8_t function = 0;
  std::uint16_t address = 0;
  std::uint16_t count = 0;
  std::uint8_t exception = 0;  // 0 = valid
};
ParsedRead parse_read_pdu(std::span<const std::uint8_t> pdu);
// A whole response frame: values are registers (FC 3/4) or 0/1 bits (FC 1/2).
std::vector<std::uint8_t> encode_read_response(std::uint16_t transaction, std::uint8_t unit,
                                               std::uint8_t function,
                                               std::span<const std::uint16_t> values);
std::vector<std::uint8_t> encode_exception(std::uint16_t transaction, std::uint8_t unit,
                                           std::uint8_t function, std::uint8_t code);

}  // namespace edgepoll::pollers::mbap
