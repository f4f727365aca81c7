#pragma once
// Turns one poll's Modbus answers (one block per planned read, see
// request_plan.hpp) into readings with the same shape as the HTTP decoder's:
// metric, value, unit. A read that failed while others of the poll succeeded
// makes field errors for its fields only (partial data is still data).
#include <optional>
#include <string>
#include <vector>

#include "edgepoll/pollers/decoder.hpp"
#include "edgepoll/pollers/duration.hpp"
#include "edgepoll/pollers/modbus/modbus_config.hpp"
#include "edgepoll/pollers/modbus/request_plan.hpp"

namespace edgepoll::pollers {

struct ModbusResponse {
  std::vector<std::vector<std::uint16_t>> blocks;  // one per planned read, in plan order
  std::vector<std::optional<Error>> failed;        // the same length: why a block is missing
  Duration elapsed{};                              // the slowest read of the poll
};

class ModbusDecoder {
 public:
  ModbusDecoder(std::string device_id, ModbusDeviceConfig config);
  // Errors: pollers.decode.no_readings (every field failed); field errors from
  // register_codec.hpp, or the failed read's error for the fields it held.
  Result<DecodeOutcome> decode(const ModbusResponse& response) const;
  const std::string& device_id() const { return device_id_; }
  const RequestPlan& plan() const { return plan_; }

 private:
  struct Place {
    std::size_t read = 0;    // index into plan_
    std::size_t offset = 0;  // of the field's first register in that read's block
  };
  std::string device_id_;
  ModbusDeviceConfig config_;
  RequestPlan plan_;
  std::vector<Place> places_;  // per field, in config order
};

}  // namespace edgepoll::pollers
