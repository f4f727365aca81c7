#pragma once
// A Modbus TCP device's protocol table, e.g. a meter behind a serial gateway:
//
//   [[device]]
//   id = "meter-7"
//   protocol = "modbus"
//   interval = "1s"
//   timeout = "500ms"                 # per request
//   [device.modbus]
//   gateway = "10.0.0.20:502"         # host:port; devices with the same one share a connection
//   unit_id = 7                       # 0-255 (the serial slave address behind a gateway)
//   addressing = "zero_based"         # or "one_based" (register 40001 style manuals: address 1 =
//   first) max_gap = 8                       # unread registers (bits) bridged to merge two reads
//   one_request_per_field = false     # true for devices that refuse merged reads
//   max_outstanding = 1               # requests in flight on the gateway connection
//   [[device.modbus.metrics]]
//   name = "meter.voltage"  table = "holding"  address = 0  type = "float32"
//   order = "ABCD"  scale = 1.0  offset = 0.0  unit = "V"
//
// Unknown keys are rejected by name, like every config section.
#include <toml++/toml.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "edgepoll/supervision/result.hpp"

namespace edgepoll::pollers {

// The four readable tables and their function codes.
enum class ModbusTable : std::uint8_t { coil = 1, discrete_input = 2, holding = 3, input = 4 };
std::string_view modbus_table_name(ModbusTable table);
inline bool is_bit_table(ModbusTable t) {
  return t == ModbusTable::coil || t == ModbusTable::discrete_input;
}

enum class ModbusType {
  boolean,
  int16,
  uint16,
  int32,
  uint32,
  int64,
  uint64,
  float32,
  float64,
  string
};
std::string_view modbus_type_name(ModbusType type);

// Byte order of a multi-byte value whose most significant byte is A:
// ABCD big endian (the Modbus default), DCBA little endian, BADC bytes swapped
// in each register, CDAB registers swapped (the "word swap" of many meters).
enum class ByteOrder { ABCD, DCBA, BADC, CDAB };
std::string_view byte_order_name(ByteOrder order);

struct ModbusField {
  std::string name;  // metric name in readings
  ModbusTable table = ModbusTable::holding;
  std::uint16_t address = 0;  // zero-based on the wire (config one-based addresses are converted)
  ModbusType type = ModbusType::uint16;
  ByteOrder order = ByteOrder::ABCD;
  int bit = -1;                 // bool in a register: bit 0-15 (0 = least significant)
  std::uint16_t registers = 0;  // string: its length in registers
  double scale = 1.0;
  double offset = 0.0;
  std::string unit;
  bool operator==(const ModbusField&) const = default;

  // Registers (or bits, in coil / discrete input tables) the field covers.
  std::uint16_t width() const;
  bool scaled() const { return scale != 1.0 || offset != 0.0; }
};

struct ModbusDeviceConfig {
  std::string host;
  std::uint16_t port = 502;
  std::uint8_t unit_id = 1;
  bool one_based = false;
  std::uint16_t max_gap = 0;
  bool one_request_per_field = false;
  unsigned max_outstanding = 1;
  std::vector<ModbusField> fields;
  bool operator==(const ModbusDeviceConfig&) const = default;

  std::string gateway() const { return host + ":" + std::to_string(port); }
  // `where` names the device in errors, e.g. `device "meter-7"`.
  static Result<ModbusDeviceConfig> parse(const toml::table& table, const std::string& where);
};

}  // namespace edgepoll::pollers
