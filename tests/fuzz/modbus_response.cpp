// The bytes a Modbus TCP gateway sends back, through what the poller does with
// them: mbap::scan_frames splits the stream into frames (as the gateway
// connection does), decode_read_response checks each against the read it
// answers, and the device's ModbusDecoder turns the blocks into readings with
// the register codec (every type and byte order, scaled, bits and strings).
// A frame answers the planned read numbered by its transaction id (modulo the
// plan's size), so that the fuzzer reaches every read; reads left unanswered
// fail as a timeout would. Beyond not crashing: every field is a reading or a
// field error, and a refused header ends the stream.
#include <toml++/toml.h>

#include "edgepoll/pollers/device_config.hpp"
#include "edgepoll/pollers/modbus/mbap.hpp"
#include "edgepoll/pollers/modbus/modbus_decoder.hpp"
#include "fuzz_support.hpp"

namespace {

using namespace edgepoll;
using namespace edgepoll::pollers;

constexpr const char* kMeter = R"(
id = "meter-7"
protocol = "modbus"
[modbus]
gateway = "127.0.0.1:502"
unit_id = 7
addressing = "zero_based"
max_gap = 2
metrics = [
  { name = "u16", address = 0 },
  { name = "i16", address = 1, type = "int16", scale = 0.1 },
  { name = "f32", address = 2, type = "float32", order = "CDAB" },
  { name = "u32", address = 4, type = "uint32", order = "DCBA" },
  { name = "i64", address = 6, type = "int64", order = "BADC" },
  { name = "f64", table = "input", address = 0, type = "float64", offset = 3.5 },
  { name = "u64", table = "input", address = 4, type = "uint64" },
  { name = "i32", table = "input", address = 8, type = "int32" },
  { name = "alarm", address = 10, type = "bool", bit = 15 },
  { name = "serial", address = 11, type = "string", registers = 4 },
  { name = "coil", table = "coil", address = 3, type = "bool" },
  { name = "door", table = "discrete_input", address = 17, type = "bool" },
  { name = "far", address = 200, type = "float32" },
]
)";

const DeviceConfig& meter() {
  static const DeviceConfig config = [] {
    auto c = DeviceConfig::parse(toml::parse(kMeter));
    if (!c) std::fprintf(stderr, "%s\n", c.error().describe().c_str());
    fuzz::require(c.ok(), "the fuzz target's own device config parses");
    return c.value();
  }();
  return config;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& config = meter();
  const ModbusDecoder decoder(config.id, *config.modbus);
  const auto& plan = decoder.plan();
  ModbusResponse response;
  response.blocks.resize(plan.size());
  response.failed.assign(plan.size(),
                         make_error("pollers.modbus.timeout", "no answer in the fuzz input", true));
  const auto scan = mbap::scan_frames(
      {data, size}, "fuzz-gateway",
      [&](const mbap::Header& header, std::span<const std::uint8_t> body) {
        const std::size_t i = header.transaction % plan.size();
        const mbap::ReadRequest request{header.transaction, config.modbus->unit_id,
                                        plan[i].table, plan[i].address, plan[i].count};
        auto values = mbap::decode_read_response(header, body, request, "fuzz read");
        if (!values) {
          fuzz::require_readable(values.error());
          response.failed[i] = values.error();
          return;
        }
        fuzz::require(values->size() == plan[i].count, "an answer holds what was asked");
        response.blocks[i] = std::move(*values);
        response.failed[i].reset();
      });
  fuzz::require(scan.consumed <= size, "frames lie within the stream");
  if (scan.refused) fuzz::require_readable(scan.refused->first);
  auto outcome = decoder.decode(response);
  if (!outcome) {
    fuzz::require_readable(outcome.error());
    return 0;
  }
  fuzz::require(outcome->readings.size() + outcome->field_errors.size() ==
                    config.modbus->fields.size(),
                "every field is a reading or a field error");
  return 0;
}
