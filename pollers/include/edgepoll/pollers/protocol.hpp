#pragma once
// The protocols a device can speak. Each has its own validated config table and
// its own connection and decoder; pollers/src/protocols.cpp is the one place
// that maps a protocol to them (device subtrees are the same for every protocol).
#include <optional>
#include <string_view>

namespace edgepoll::pollers {

enum class Protocol { http, modbus, snmp };

std::optional<Protocol> parse_protocol(std::string_view name);  // "http", "modbus", "snmp"
std::string_view protocol_name(Protocol protocol);

}  // namespace edgepoll::pollers
