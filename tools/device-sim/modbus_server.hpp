#pragma once
// Modbus TCP mode of the simulator: every listener is a gateway serving unit
// ids 1..units (FC 01-04 over all 65,536 addresses of each table), whose
// registers change with time; unit ids it does not serve get no answer, as
// from a real gateway. Units can be scripted to misbehave (see
// modbus_behaviour_help()).
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "edgepoll/supervision/result.hpp"

namespace edgepoll::devicesim {

enum class ModbusKind {
  normal,
  exception,
  slow,
  hang,
  reset,
  garbage,
  wrong_tid,
  short_frame,
  oversized
};

struct ModbusBehaviour {
  ModbusKind kind = ModbusKind::normal;
  std::uint8_t exception = 0;         // exception:<code>
  std::chrono::milliseconds delay{};  // slow:<dur>
  static Result<ModbusBehaviour> parse(std::string_view spec);
};

// `[L/]U[-V]=SPEC`: unit U (or U..V) on every listener, or only on listener L (0-based).
struct ModbusRule {
  int listener = -1;
  unsigned first = 0, last = 0;
  ModbusBehaviour behaviour;
  static Result<ModbusRule> parse(std::string_view text);
};

struct ModbusSimulator {
  unsigned units = 1;
  std::vector<ModbusRule> rules;
  std::chrono::steady_clock::time_point epoch = std::chrono::steady_clock::now();
  std::atomic<std::uint64_t> requests{0};  // read requests received, answered or not
  // The behaviour of `unit` on `listener`; nullptr for a unit id it does not serve.
  const ModbusBehaviour* behaviour(unsigned listener, unsigned unit) const;
  // Register (or bit) `address` of `table` (1-4) of `unit`, now.
  std::uint16_t value(unsigned unit, std::uint8_t table, std::uint16_t address) const;
};

boost::asio::ip::tcp::endpoint listen_modbus(boost::asio::io_context& io,
                                             boost::asio::ip::tcp::endpoint endpoint,
                                             ModbusSimulator& simulator, unsigned listener);

std::string modbus_behaviour_help();

}  // namespace edgepoll::devicesim
