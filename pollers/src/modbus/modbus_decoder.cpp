#include "edgepoll/pollers/modbus/modbus_decoder.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "edgepoll/pollers/modbus/register_codec.hpp"

namespace edgepoll::pollers {

ModbusDecoder::ModbusDecoder(std::string device_id, ModbusDeviceConfig config)
    : device_id_(std::move(device_id)), config_(std::move(config)), plan_(plan_requests(config_)) {
  places_.resize(config_.fields.size());
  for (std::size_t r = 0; r < plan_.size(); ++r)
    for (auto f : plan_[r].fields)
      places_[f] = Place{r, static_cast<std::size_t>(config_.fields[f].address - plan_[r].address)};
}

Result<DecodeOutcome> ModbusDecoder::decode(const ModbusResponse& response) const {
  if (response.blocks.size() != plan_.size() || response.failed.size() != plan_.size())
    throw std::logic_error("modbus response for device " + device_id_ +
                           " does not follow its request plan");
  DecodeOutcome out;
  out.readings.reserve(config_.fields.size());
  for (std::size_t i = 0; i < config_.fields.size(); ++i) {
    const auto& f = config_.fields[i];
    const auto [read, offset] = places_[i];
    if (const auto& e = response.failed[read]) {
      Error copy = *e;
      copy.message = fmt::format("device \"{}\" field \"{}\": {}", device_id_, f.name, e->message);
      out.field_errors.push_back(std::move(copy));
      continue;
    }
    std::span<const std::uint16_t> block(response.blocks[read]);
    auto value = decode_field(
        offset < block.size() ? block.subspan(offset) : std::span<const std::uint16_t>{}, f);
    if (!value) {
      Error e = value.take_error();
      e.message = fmt::format("device \"{}\" {}", device_id_, e.message);
      out.field_errors.push_back(std::move(e));
      continue;
    }
    out.readings.push_back(Reading{f.name, std::move(value.value()), f.unit});
  }
  if (out.readings.empty())
    return make_error("pollers.decode.no_readings",
                      fmt::format("device \"{}\": no field decoded; first problem: {}", device_id_,
                                  out.field_errors.front().describe()),
                      out.field_errors.front().retryable);
  return out;
}

}  // namespace edgepoll::pollers
