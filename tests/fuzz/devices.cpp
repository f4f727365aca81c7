// A devices file ([[device]] tables, as in devices.d/) from an operator's
// bytes: each table through the pollers' DeviceConfig::parse, and each device
// that parsed gets its decoder built (a Modbus device's request plan is made
// from its fields there), as the pollers do before the first poll.
#include <toml++/toml.h>

#include "edgepoll/pollers/device_config.hpp"
#include "edgepoll/pollers/device_decoder.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace edgepoll;
  toml::table root;
  try {
    root = toml::parse(fuzz::text(data, size), std::string_view("fuzz/devices.d/fuzz.toml"));
  } catch (const toml::parse_error&) {
    return 0;  // a syntax error: toml++'s, not the project's
  }
  const auto* devices = root["device"].as_array();
  if (devices == nullptr) return 0;
  for (const auto& node : *devices) {
    const auto* table = node.as_table();
    if (table == nullptr) continue;
    auto device = pollers::DeviceConfig::parse(*table);
    if (!device) {
      fuzz::require_readable(device.error());
      continue;
    }
    fuzz::require(device->protocol != pollers::Protocol::modbus || device->modbus.has_value(),
                  "a Modbus device has its [device.modbus] table");
    const pollers::DeviceDecoder decoder(*device);
    fuzz::require(decoder.device_id() == device->id, "the decoder names its device");
  }
  return 0;
}
