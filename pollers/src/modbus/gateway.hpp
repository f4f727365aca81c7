#pragma once
// One Modbus TCP gateway (host:port): the connection every device behind it
// shares, its queues, transaction ids and timeouts. See modbus_transport.hpp
// for the contract; this is its machinery.
#include <bitset>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "edgepoll/pollers/modbus/mbap.hpp"
#include "edgepoll/pollers/modbus/modbus_transport.hpp"
#include "edgepoll/supervision/backoff.hpp"

namespace edgepoll::pollers {

class ModbusGateway final : public std::enable_shared_from_this<ModbusGateway> {
 public:
  ModbusGateway(boost::asio::io_context& io, std::string host, std::uint16_t port,
                ModbusTransportOptions options, std::shared_ptr<ModbusTransportStats> stats);
  bool is(const std::string& host, std::uint16_t port) const {
    return host == host_ && port == port_;
  }
  void allow_outstanding(unsigned n);
  void submit(ModbusRequestId id, const ModbusRead& read, ModbusCallback done);
  void cancel(ModbusRequestId id);
  // Closes the connection and forgets every request without calling back.
  void shutdown();

 private:
  using Clock = std::chrono::steady_clock;
  struct Pending {
    ModbusRequestId id = 0;
    ModbusRead read;
    ModbusCallback done;
    Clock::time_point queued_at{}, sent_at{};
    std::uint16_t transaction = 0;
    bool resent = false;
  };
  enum class State { idle, connecting, connected, backing_off };

  void connect();
  void on_connected(const boost::system::error_code& ec);
  void start_read();
  void on_read(const boost::system::error_code& ec, std::size_t n);
  void on_frame(const mbap::Header& header, std::span<const std::uint8_t> body);
  void dispatch();
  bool send_one(std::deque<Pending>& lane);
  void flush_writes();
  void drop_connection(const Error& why, std::optional<std::uint8_t> culprit);
  void retry_later();
  void arm(Clock::time_point at);
  void on_deadline();
  void complete(Pending& p, Result<ModbusReply> result);
  void run_completions();
  std::string where(const ModbusRead& r) const;

  std::string host_;
  std::uint16_t port_;
  std::string name_;
  ModbusTransportOptions options_;
  std::shared_ptr<ModbusTransportStats> stats_;
  unsigned max_outstanding_ = 1;

  State state_ = State::idle;
  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer deadline_timer_, retry_timer_;
  Clock::time_point armed_for_ = Clock::time_point::max();
  Clock::time_point connect_deadline_{};
  std::uint64_t epoch_ = 0;  // connection generation: handlers of an older socket do nothing
  bool closed_ = false;
  std::optional<Error> last_connect_error_;

  std::deque<Pending> queue_;  // units that answer
  std::deque<Pending>
      suspect_queue_;  // units whose last request timed out: sent only when queue_ cannot
  std::vector<Pending> in_flight_;  // at most max_outstanding_, at most one per unit
  std::bitset<256> unit_busy_, unit_suspect_;
  // Units in flight when a connection died with no culprit: each is sent alone
  // until it answers, so that the next death names the unit that causes it.
  std::bitset<256> unit_isolated_;
  std::uint16_t next_transaction_ = 1;

  std::array<std::uint8_t, 1024> in_{};
  std::size_t have_ = 0;
  std::vector<std::uint8_t> out_pending_, out_writing_;
  bool writing_ = false;

  supervision::FullJitterBackoff backoff_;
  std::vector<std::pair<ModbusCallback, Result<ModbusReply>>> completions_;
};

}  // namespace edgepoll::pollers
