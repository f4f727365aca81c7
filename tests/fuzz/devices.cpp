// A devices file (devices.d/*.toml: [[device]] tables) from an operator's
// bytes, through AppConfig::from_files as the daemon reads devices.d: beside a
// main file whose [pollers.defaults] every device inherits. Each device that
// parsed gets its decoder built (a Modbus device's request plan is made from
// its fields there), as the pollers do before the first poll. Beyond not
// crashing: an error names something, and the devices have distinct ids with
// their provenance recorded.
#include <set>
#include <string>

#include "edgepoll/appliance/app_config.hpp"
#include "edgepoll/pollers/device_decoder.hpp"
#include "fuzz_support.hpp"

namespace {

constexpr const char* kMain = R"(
[storage]
path = "/tmp/edgepoll-fuzz/edgepoll.db"

[pollers.defaults]
interval = "5s"
timeout = "1s"
breaker = { failures = 4, open_for = "20s" }
)";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace edgepoll;
  appliance::ConfigFiles files;
  files.main = {"fuzz/edgepoll.toml", kMain};
  files.devices_dir = "fuzz/devices.d";
  files.devices.push_back({"fuzz/devices.d/fuzz.toml", std::string(fuzz::text(data, size))});
  auto config = appliance::AppConfig::from_files(files);
  if (!config) {
    fuzz::require_readable(config.error());
    return 0;
  }
  std::set<std::string> ids;
  for (const auto& shared : config->devices) {
    const pollers::DeviceConfig& device = *shared;
    fuzz::require(ids.insert(device.id).second, "parsed device ids are distinct");
    fuzz::require(config->device_sources.count(device.id) == 1, "a device says where it was defined");
    fuzz::require(device.protocol != pollers::Protocol::modbus || device.modbus.has_value(),
                  "a Modbus device has its [device.modbus] table");
    const pollers::DeviceDecoder decoder(device);
    fuzz::require(decoder.device_id() == device.id, "the decoder names its device");
  }
  return 0;
}
