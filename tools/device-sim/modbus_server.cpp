#include "modbus_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <deque>
#include <memory>

#include "edgepoll/pollers/duration.hpp"
#include "edgepoll/pollers/modbus/mbap.hpp"
#include "awaitable.hpp"

namespace edgepoll::devicesim {
namespace asio = boost::asio;
namespace mbap = pollers::mbap;
using asio::ip::tcp;

Result<ModbusBehaviour> ModbusBehaviour::parse(std::string_view spec) {
  ModbusBehaviour b;
  const auto colon = spec.find(':');
  const std::string_view name = spec.substr(0, colon);
  const std::string_view arg = colon == std::string_view::npos ? "" : spec.substr(colon + 1);
  auto bad = [&](std::string_view why) {
    return make_error("devicesim.bad_behaviour",
                      "modbus behaviour \"" + std::string(spec) + "\": " + std::string(why));
  };
  if (name == "normal")
    b.kind = ModbusKind::normal;
  else if (name == "hang")
    b.kind = ModbusKind::hang;
  else if (name == "reset")
    b.kind = ModbusKind::reset;
  else if (name == "garbage")
    b.kind = ModbusKind::garbage;
  else if (name == "wrong_tid")
    b.kind = ModbusKind::wrong_tid;
  else if (name == "short")
    b.kind = ModbusKind::short_frame;
  else if (name == "oversized")
    b.kind = ModbusKind::oversized;
  else if (name == "exception") {
    b.kind = ModbusKind::exception;
    try {
      const int code = std::stoi(std::string(arg));
      if (code < 1 || code > 255) return bad("the exception code is 1-255");
      b.exception = static_cast<std::uint8_t>(code);
    } catch (const std::exception&) {
      return bad("expected exception:<code>, e.g. exception:2");
    }
  } else if (name == "slow") {
    b.kind = ModbusKind::slow;
    auto d = pollers::parse_duration(arg, "slow");
    if (!d) return bad("expected slow:<duration>, e.g. slow:300ms");
    b.delay = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
  } else {
    return bad("unknown behaviour");
  }
  return b;
}

Result<ModbusRule> ModbusRule::parse(std::string_view text) {
  const auto eq = text.find('=');
  auto bad = make_error("devicesim.bad_rule",
                        "--unit " + std::string(text) + ": expected [L/]U[-V]=SPEC, e.g. 7=hang");
  if (eq == std::string_view::npos || eq == 0) return bad;
  ModbusRule r;
  std::string units(text.substr(0, eq));
  try {
    if (const auto slash = units.find('/'); slash != std::string::npos) {
      r.listener = std::stoi(units.substr(0, slash));
      units = units.substr(slash + 1);
    }
    const auto dash = units.find('-');
    r.first = static_cast<unsigned>(std::stoul(units.substr(0, dash)));
    r.last = dash == std::string::npos ? r.first
                                       : static_cast<unsigned>(std::stoul(units.substr(dash + 1)));
  } catch (const std::exception&) {
    return bad;
  }
  if (r.first > r.last || r.last > 255) return bad;
  auto b = ModbusBehaviour::parse(text.substr(eq + 1));
  if (!b) return b.take_error();
  r.behaviour = *b;
  return r;
}

const ModbusBehaviour* ModbusSimulator::behaviour(unsigned listener, unsigned unit) const {
  // Later rules win, as with --device in HTTP mode.
  for (auto it = rules.rbegin(); it != rules.rend(); ++it)
    if ((it->listener < 0 || static_cast<unsigned>(it->listener) == listener) &&
        unit >= it->first && unit <= it->last)
      return &it->behaviour;
  static const ModbusBehaviour normal{};
  return unit >= 1 && unit <= units ? &normal : nullptr;
}

std::uint16_t ModbusSimulator::value(unsigned unit, std::uint8_t table,
                                     std::uint16_t address) const {
  const auto t = static_cast<unsigned>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - epoch)
          .count());
  const unsigned v =
      unit * 1000u + address * 7u + t;  // changes every second, differs per unit and register
  return static_cast<std::uint16_t>(table <= 2 ? v & 1u : v);
}

namespace {

// One client connection. Requests are served concurrently (a slow unit does not
// hold up the others, as on a gateway with pipelining); answers go out through
// one write queue.
struct Connection : std::enable_shared_from_this<Connection> {
  Connection(tcp::socket s, ModbusSimulator& sim, unsigned listener)
      : socket(std::move(s)), simulator(sim), listener(listener) {}
  tcp::socket socket;
  ModbusSimulator& simulator;
  unsigned listener;
  std::deque<std::vector<std::uint8_t>> out;
  bool writing = false;

  void send(std::vector<std::uint8_t> bytes) {
    out.push_back(std::move(bytes));
    if (!writing) write_next();
  }
  void write_next() {
    if (out.empty()) {
      writing = false;
      return;
    }
    writing = true;
    asio::async_write(socket, asio::buffer(out.front()),
                      [self = shared_from_this()](auto ec, std::size_t) {
                        self->out.pop_front();
                        if (ec) return;
                        self->write_next();
                      });
  }
  void reset() {
    boost::system::error_code ignored;
    socket.set_option(asio::socket_base::linger(true, 0), ignored);  // RST, not FIN
    socket.close(ignored);
  }

  asio::awaitable<void> answer(mbap::Header h, std::vector<std::uint8_t> pdu) {
    auto self = shared_from_this();
    const auto* b = simulator.behaviour(listener, h.unit);
    if (b == nullptr || b->kind == ModbusKind::hang) co_return;  // unknown unit: no answer at all
    const auto req = mbap::parse_read_pdu(pdu);
    std::vector<std::uint8_t> frame;
    if (req.exception) {
      frame = mbap::encode_exception(h.transaction, h.unit, req.function, req.exception);
    } else {
      std::vector<std::uint16_t> values(req.count);
      for (unsigned i = 0; i < req.count; ++i)
        values[i] =
            simulator.value(h.unit, req.function, static_cast<std::uint16_t>(req.address + i));
      frame = mbap::encode_read_response(h.transaction, h.unit, req.function, values);
    }
    switch (b->kind) {
      case ModbusKind::exception:
        frame = mbap::encode_exception(h.transaction, h.unit, req.function, b->exception);
        break;
      case ModbusKind::slow: {
        asio::steady_timer timer(socket.get_executor(), b->delay);
        co_await timer.async_wait(use_tuple);
        break;
      }
      case ModbusKind::reset:
        reset();
        co_return;
      case ModbusKind::garbage:
        frame = {0xde, 0xad, 0xbe, 0xef, 0x00, 0x10, h.unit, 0x99, 0x42, 0x13, 0x37};
        break;
      case ModbusKind::wrong_tid:
        frame[0] ^= 0x5a;
        break;
      case ModbusKind::short_frame:
        frame.resize(frame.size() / 2);
        break;  // the header promises more
      case ModbusKind::oversized:
        frame[4] = 0x03;
        frame[5] = 0xe8;
        break;  // length 1000 (max 254)
      default:
        break;
    }
    send(std::move(frame));
  }

  asio::awaitable<void> serve() {
    auto self = shared_from_this();
    for (;;) {
      std::array<std::uint8_t, mbap::kHeaderSize> head{};
      auto [ec, n] = co_await asio::async_read(socket, asio::buffer(head), use_tuple);
      if (ec) co_return;
      const auto h = mbap::parse_header(head);
      if (h.protocol != 0 || h.length < 2 || h.length > mbap::kMaxLength)
        co_return reset();  // not Modbus: drop it
      std::vector<std::uint8_t> pdu(h.length - 1u);
      auto [ec2, n2] = co_await asio::async_read(socket, asio::buffer(pdu), use_tuple);
      if (ec2) co_return;
      simulator.requests.fetch_add(1, std::memory_order_relaxed);
      asio::co_spawn(socket.get_executor(), answer(h, std::move(pdu)), asio::detached);
    }
  }
};

asio::awaitable<void> accept_loop(tcp::acceptor acceptor, ModbusSimulator& sim, unsigned listener) {
  for (;;) {
    auto [ec, socket] =
        co_await acceptor.async_accept(asio::make_strand(acceptor.get_executor()), use_tuple);
    if (ec) continue;
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto c = std::make_shared<Connection>(std::move(socket), sim, listener);
    asio::co_spawn(c->socket.get_executor(), c->serve(), asio::detached);
  }
}

}  // namespace

tcp::endpoint listen_modbus(asio::io_context& io, tcp::endpoint endpoint,
                            ModbusSimulator& simulator, unsigned listener) {
  tcp::acceptor acceptor(io, endpoint, /*reuse_address=*/true);
  auto bound = acceptor.local_endpoint();
  asio::co_spawn(io, accept_loop(std::move(acceptor), simulator, listener), asio::detached);
  return bound;
}

std::string modbus_behaviour_help() {
  return R"(Modbus TCP mode (--modbus): each listener is a gateway serving unit ids 1..--units
(FC 01 coils, 02 discrete inputs, 03 holding and 04 input registers, any address);
register a of unit u reads u*1000 + 7a + t (mod 65536, t = seconds since start),
bits read the lowest bit of that. A unit id it does not serve gets no answer.
Unit behaviours (--unit [L/]U[-V]=SPEC: unit U or U..V, on every listener or on listener L only):
  normal              answers
  exception:<code>    an exception response          e.g. exception:2 (illegal data address),
                      exception:11 (gateway target device failed to respond)
  slow:<dur>          answers after a delay          e.g. slow:300ms
  hang                never answers
  reset               resets the connection (TCP RST) instead of answering
  garbage             answers bytes that are not a Modbus frame (protocol id 0xbeef)
  wrong_tid           answers with another transaction id
  short               sends half a frame whose header promises the whole
  oversized           a header whose length is 1000 (the maximum is 254)
Send SIGUSR1 to print "modbus_requests=<N>" (read requests received) on stdout.
Example:
  device-sim --modbus --listen 127.0.0.1:5020 --listeners 5 --units 200 --unit 7=hang --unit 2/9-10=exception:11
)";
}

}  // namespace edgepoll::devicesim
