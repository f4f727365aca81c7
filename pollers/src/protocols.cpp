#include "protocols.hpp"

#include <stdexcept>

#include "edgepoll/pollers/device_decoder.hpp"
#include "edgepoll/pollers/device_processes.hpp"
#include "edgepoll/pollers/modbus/modbus_session.hpp"
#include "edgepoll/pollers/snmp/snmp_session.hpp"

namespace edgepoll::pollers {

std::optional<Protocol> parse_protocol(std::string_view name) {
  if (name == "http") return Protocol::http;
  if (name == "modbus") return Protocol::modbus;
  if (name == "snmp") return Protocol::snmp;
  return std::nullopt;
}

std::string_view protocol_name(Protocol protocol) {
  switch (protocol) {
    case Protocol::http:
      return "http";
    case Protocol::modbus:
      return "modbus";
    case Protocol::snmp:
      return "snmp";
  }
  return "?";
}

namespace {
std::variant<Decoder, ModbusDecoder, SnmpDecoder> decoder_for(const DeviceConfig& c) {
  switch (c.protocol) {
    case Protocol::http:
      return Decoder(c.id, c.metrics, DecoderLimits{c.max_body, 64});
    case Protocol::modbus:
      if (!c.modbus)
        throw std::logic_error("modbus device " + c.id + " without its [device.modbus] table");
      return ModbusDecoder(c.id, *c.modbus);
    case Protocol::snmp:
      if (!c.snmp) throw std::logic_error("snmp device " + c.id + " without its [device.snmp] table");
      return SnmpDecoder(c.id, *c.snmp);
  }
  throw std::logic_error("device " + c.id + ": unknown protocol");
}

template <class Wanted, class Variant>
auto& expect(Variant& d) {
  if (auto* w = std::get_if<Wanted>(&d)) return *w;
  throw std::logic_error("a device got a response of another protocol than its own");
}
}  // namespace

DeviceDecoder::DeviceDecoder(const DeviceConfig& config) : decoder_(decoder_for(config)) {}

Result<DecodeOutcome> DeviceDecoder::decode(const FetchResponse& r) const {
  return expect<Decoder>(decoder_).decode(r.body);
}
Result<DecodeOutcome> DeviceDecoder::decode(const ModbusResponse& r) const {
  return expect<ModbusDecoder>(decoder_).decode(r);
}
Result<DecodeOutcome> DeviceDecoder::decode(const SnmpResponse& r) {
  return expect<SnmpDecoder>(decoder_).decode(r);
}
const std::string& DeviceDecoder::device_id() const {
  return std::visit([](const auto& d) -> const std::string& { return d.device_id(); }, decoder_);
}

namespace detail {

supervision::ChildFactory connection_factory(std::shared_ptr<const DeviceConfig> config,
                                             PollerContext context) {
  using supervision::Behaviour;
  switch (config->protocol) {
    case Protocol::http:
      return
          [config, context](const supervision::ChildStart&) -> Result<std::shared_ptr<Behaviour>> {
            return std::shared_ptr<Behaviour>(std::make_shared<DeviceConnection>(config, context));
          };
    case Protocol::modbus:
      return
          [config, context](const supervision::ChildStart&) -> Result<std::shared_ptr<Behaviour>> {
            return std::shared_ptr<Behaviour>(std::make_shared<ModbusSession>(config, context));
          };
    case Protocol::snmp:
      return
          [config, context](const supervision::ChildStart&) -> Result<std::shared_ptr<Behaviour>> {
            return std::shared_ptr<Behaviour>(std::make_shared<SnmpSession>(config, context));
          };
  }
  throw std::logic_error("device " + config->id + ": unknown protocol");
}

}  // namespace detail
}  // namespace edgepoll::pollers
