#pragma once
// Modbus TCP reads for many devices on one Asio io_context, written here rather
// than taken from libmodbus: libmodbus blocks in select() for every request, so
// it would need a thread per device or gateway; this client is non-blocking and
// has none.
//
// Devices name a gateway (host:port) and a unit id. All devices behind one
// gateway share its one TCP connection (ModbusTcpTransport keeps one per
// host:port for as long as the transport lives), with at most
// `max_outstanding` requests in flight on it, matched to their answers by
// transaction id, and never two for one unit id at once. A unit that does not
// answer holds one slot until its timeout; its later requests wait in a second,
// lower-priority queue until it answers again, so that the other units are not
// queued behind it. A connection that dies is re-established once for all of
// its units (full-jitter backoff); the requests of other units that were in
// flight on it are sent again once, on the new connection.
//
// Every failure (refused, timeout, reset, a malformed or mismatched answer, an
// exception response) comes to the callback as an Error value; nothing throws.
// Threading: one thread (or strand) of the io_context, like HttpFetcher.
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "edgepoll/pollers/duration.hpp"
#include "edgepoll/pollers/modbus/modbus_config.hpp"
#include "edgepoll/supervision/result.hpp"

namespace edgepoll::pollers {

struct ModbusRead {
  std::uint8_t unit = 1;
  ModbusTable table = ModbusTable::holding;
  std::uint16_t address = 0;
  std::uint16_t count = 1;
  // From sending to the answer. A request that waits in the gateway's queue
  // for twice this fails too (long enough for one silent unit's timeout to
  // pass before it; the device's poll is overdue by then anyway).
  Duration timeout = std::chrono::seconds(2);
};

struct ModbusReply {
  std::vector<std::uint16_t> values;  // registers, or one 0/1 per bit
  Duration elapsed{};                 // sent to answered
};

using ModbusCallback = std::function<void(Result<ModbusReply>)>;
using GatewayId = std::uint32_t;
using ModbusRequestId = std::uint64_t;

class ModbusTransport {
 public:
  virtual ~ModbusTransport() = default;
  // The gateway at host:port (the same id for the same address); its bound of
  // requests in flight is the largest `max_outstanding` any caller asked for.
  virtual GatewayId gateway(const std::string& host, std::uint16_t port,
                            unsigned max_outstanding) = 0;
  // `done` runs exactly once on the io_context, never inside this call, unless
  // the request is cancelled first.
  virtual ModbusRequestId read(GatewayId gateway, const ModbusRead& read, ModbusCallback done) = 0;
  virtual void cancel(ModbusRequestId id) = 0;
};

struct ModbusTransportOptions {
  Duration connect_timeout = std::chrono::seconds(3);
  Duration reconnect_base =
      std::chrono::milliseconds(100);  // full jitter: uniform(0, min(cap, base * 2^n))
  Duration reconnect_cap = std::chrono::seconds(10);
};

// Atomics: /metrics reads them from another thread than the loop that counts.
struct ModbusTransportStats {
  std::atomic<std::uint64_t> connects{0};
  std::atomic<std::uint64_t> connect_failures{0};
  std::atomic<std::uint64_t> disconnects{
      0};  // an established connection ended (reset, EOF, unframeable bytes)
  std::atomic<std::uint64_t> requests{0};  // frames sent
  std::atomic<std::uint64_t> answers{0};   // valid answers, exceptions included
  std::atomic<std::uint64_t> timeouts{0};
  std::atomic<std::uint64_t> resent{0};  // in flight on a connection that died, sent again
  std::atomic<std::uint64_t> stray{
      0};  // answers that matched no request in flight (late, or unknown ids)
};

class ModbusGateway;

class ModbusTcpTransport final : public ModbusTransport {
 public:
  explicit ModbusTcpTransport(boost::asio::io_context& io, ModbusTransportOptions options = {});
  // Closes every connection; callbacks of requests still pending are not called.
  ~ModbusTcpTransport() override;
  ModbusTcpTransport(const ModbusTcpTransport&) = delete;
  ModbusTcpTransport& operator=(const ModbusTcpTransport&) = delete;

  GatewayId gateway(const std::string& host, std::uint16_t port, unsigned max_outstanding) override;
  ModbusRequestId read(GatewayId gateway, const ModbusRead& read, ModbusCallback done) override;
  void cancel(ModbusRequestId id) override;

  const ModbusTransportStats& stats() const { return *stats_; }
  std::shared_ptr<const ModbusTransportStats> shared_stats() const { return stats_; }
  std::size_t gateways() const { return gateways_.size(); }

 private:
  boost::asio::io_context& io_;
  ModbusTransportOptions options_;
  std::shared_ptr<ModbusTransportStats> stats_ = std::make_shared<ModbusTransportStats>();
  std::vector<std::shared_ptr<ModbusGateway>> gateways_;
  std::uint64_t next_request_ = 0;
};

}  // namespace edgepoll::pollers
