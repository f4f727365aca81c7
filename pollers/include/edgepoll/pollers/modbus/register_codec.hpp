#pragma once
// Register contents <-> typed values, for every type and byte order of
// modbus_config.hpp. Decoding is what the poller does with a device's
// registers; encoding is what the simulator serves and what the tests check
// against pymodbus's BinaryPayloadBuilder (the same register words both ways).
#include <cstdint>
#include <span>
#include <vector>

#include "edgepoll/pollers/decoder.hpp"
#include "edgepoll/pollers/modbus/modbus_config.hpp"

namespace edgepoll::pollers {

// `words` are the field's registers (field.width() of them; for coil and
// discrete input tables one 0/1 per bit). Scale and offset are applied: a
// scaled field reads as a float. Errors (field errors of the reading):
// pollers.modbus.short_field, pollers.modbus.not_finite (NaN/Inf),
// pollers.modbus.non_utf8 (a string field).
Result<ReadingValue> decode_field(std::span<const std::uint16_t> words, const ModbusField& field);

// The registers that hold `value` (before scale/offset) as `type` in `order`.
// Integers take the low bits of `raw_integer`; floats take `raw_float`.
std::vector<std::uint16_t> encode_integer(std::uint64_t raw_integer, ModbusType type,
                                          ByteOrder order);
std::vector<std::uint16_t> encode_float(double raw_float, ModbusType type, ByteOrder order);
// A string padded with NULs to `registers` registers (cut if longer).
std::vector<std::uint16_t> encode_string(std::string_view text, std::uint16_t registers,
                                         ByteOrder order);

}  // namespace edgepoll::pollers
