#pragma once
// Which reads one poll of a Modbus device sends: its fields merged into as few
// requests as the protocol allows (at most 125 registers or 2,000 bits each),
// bridging up to `max_gap` unread addresses between two fields, or one request
// per field for devices that refuse merged reads. Computed once per device
// config; shown by `edgepolld --check-config` and in the device's /tree entry.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "edgepoll/pollers/modbus/modbus_config.hpp"

namespace edgepoll::pollers {

inline constexpr std::uint16_t kMaxReadRegisters = 125;  // FC 03/04 (Modbus spec 6.3, 6.4)
inline constexpr std::uint16_t kMaxReadBits = 2000;      // FC 01/02 (6.1, 6.2)

struct PlannedRead {
  ModbusTable table = ModbusTable::holding;
  std::uint16_t address = 0;        // zero-based, as on the wire
  std::uint16_t count = 0;          // registers, or bits in coil / discrete input tables
  std::vector<std::size_t> fields;  // indices into ModbusDeviceConfig::fields
  bool operator==(const PlannedRead&) const = default;
};

using RequestPlan = std::vector<PlannedRead>;

RequestPlan plan_requests(const ModbusDeviceConfig& config);

// One line per read, e.g. "FC03 holding 0..9 (10 registers): voltage, current".
std::vector<std::string> describe_plan(const RequestPlan& plan, const ModbusDeviceConfig& config);

}  // namespace edgepoll::pollers
