#pragma once
// The decoder of a device's protocol, chosen once from its config (see
// protocols.cpp): JSON bodies for HTTP, registers for Modbus, varbinds for SNMP. A variant rather
// than a virtual interface: the HTTP poll path costs one index test.
#include <string>
#include <variant>

#include "edgepoll/pollers/decoder.hpp"
#include "edgepoll/pollers/device_config.hpp"
#include "edgepoll/pollers/http_fetcher.hpp"
#include "edgepoll/pollers/modbus/modbus_decoder.hpp"
#include "edgepoll/pollers/snmp/snmp_decoder.hpp"

namespace edgepoll::pollers {

class DeviceDecoder {
 public:
  explicit DeviceDecoder(const DeviceConfig& config);
  // A response of the other protocol is a broken invariant (throws).
  Result<DecodeOutcome> decode(const FetchResponse& response) const;
  Result<DecodeOutcome> decode(const ModbusResponse& response) const;
  // Not const: SNMP rates keep the previous poll's counts.
  Result<DecodeOutcome> decode(const SnmpResponse& response);
  const std::string& device_id() const;
  const ModbusDecoder* modbus() const { return std::get_if<ModbusDecoder>(&decoder_); }

 private:
  std::variant<Decoder, ModbusDecoder, SnmpDecoder> decoder_;
};

}  // namespace edgepoll::pollers
