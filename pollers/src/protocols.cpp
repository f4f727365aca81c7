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
using AnyDecoder =
    std::variant<Decoder, std::unique_ptr<ModbusDecoder>, std::unique_ptr<SnmpDecoder>>;

AnyDecoder decoder_for(const std::shared_ptr<const DeviceConfig>& config) {
  const DeviceConfig& c = *config;
  switch (c.protocol) {
    case Protocol::http:
      // The mapping is the config's own (an aliasing pointer keeps the config alive).
      return Decoder(c.id, std::shared_ptr<const std::vector<MetricMapping>>(config, &c.metrics),
                     DecoderLimits{c.max_body, 64});
    case Protocol::modbus:
      if (!c.modbus)
        throw std::logic_error("modbus device " + c.id + " without its [device.modbus] table");
      return std::make_unique<ModbusDecoder>(c.id, *c.modbus);
    case Protocol::snmp:
      if (!c.snmp) throw std::logic_error("snmp device " + c.id + " without its [device.snmp] table");
      return std::make_unique<SnmpDecoder>(c.id, *c.snmp);
  }
  throw std::logic_error("device " + c.id + ": unknown protocol");
}

template <class Wanted, class Variant>
auto& expect(Variant& d) {
  if (auto* w = std::get_if<Wanted>(&d)) return *w;
  throw std::logic_error("a device got a response of another protocol than its own");
}

const Decoder& get(const Decoder& d) {
  return d;
}
template <class T>
const T& get(const std::unique_ptr<T>& d) {
  return *d;
}
}  // namespace

DeviceDecoder::DeviceDecoder(std::shared_ptr<const DeviceConfig> config)
    : decoder_(decoder_for(config)) {}

Result<DecodeOutcome> DeviceDecoder::decode(const FetchResponse& r) const {
  return expect<Decoder>(decoder_).decode(r.body);
}
Result<DecodeOutcome> DeviceDecoder::decode(const ModbusResponse& r) const {
  return expect<std::unique_ptr<ModbusDecoder>>(decoder_)->decode(r);
}
Result<DecodeOutcome> DeviceDecoder::decode(const SnmpResponse& r) {
  return expect<std::unique_ptr<SnmpDecoder>>(decoder_)->decode(r);
}
const std::string& DeviceDecoder::device_id() const {
  return std::visit([](const auto& d) -> const std::string& { return get(d).device_id(); },
                    decoder_);
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
