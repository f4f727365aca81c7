#pragma once
// The decoder of a device's protocol, chosen once from its config (see
// protocols.cpp): JSON bodies for HTTP, registers for Modbus, varbinds for SNMP. A variant rather
// than a virtual interface: the HTTP poll path costs one index test.
#include <memory>
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
  // The config is shared: an HTTP device's decoder reads its metric mapping.
  explicit DeviceDecoder(std::shared_ptr<const DeviceConfig> config);
  explicit DeviceDecoder(const DeviceConfig& config)
      : DeviceDecoder(std::make_shared<const DeviceConfig>(config)) {}
  // A response of the other protocol is a broken invariant (throws).
  Result<DecodeOutcome> decode(const FetchResponse& response) const;
  Result<DecodeOutcome> decode(const ModbusResponse& response) const;
  // Not const: SNMP rates keep the previous poll's counts.
  Result<DecodeOutcome> decode(const SnmpResponse& response);
  const std::string& device_id() const;
  const ModbusDecoder* modbus() const {
    const auto* m = std::get_if<std::unique_ptr<ModbusDecoder>>(&decoder_);
    return m ? m->get() : nullptr;
  }

 private:
  // The Modbus and SNMP decoders hold their tables (hundreds of bytes): on the
  // heap, so that the variant of each HTTP device stays the size of a Decoder.
  std::variant<Decoder, std::unique_ptr<ModbusDecoder>, std::unique_ptr<SnmpDecoder>> decoder_;
};

}  // namespace edgepoll::pollers
