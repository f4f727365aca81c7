#include "snmp_server.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <memory>

#include "edgepoll/pollers/duration.hpp"

namespace edgepoll::devicesim {
namespace asio = boost::asio;
using asio::ip::udp;

namespace {

constexpr unsigned kScalars = 10;
constexpr unsigned kRows = 24;
constexpr std::size_t kMaxVarbinds = 2048;  // bounds the work a GETBULK of many OIDs asks for
const ber::Oid kScalarBase{1, 3, 6, 1, 4, 1, 99999, 1};       // .<i>.0, i = 1..10
const ber::Oid kIfEntry{1, 3, 6, 1, 2, 1, 2, 2, 1};           // .<column>.<row>
constexpr std::uint32_t kColumns[] = {2, 10, 16};            // ifDescr, ifInOctets, ifOutOctets
constexpr std::uint8_t kScalarTypes[] = {ber::integer, ber::gauge32, ber::counter32, ber::time_ticks};

// Every object's OID in lexicographic order (the ifTable, 1.3.6.1.2.1..., sorts
// before the enterprise scalars), for GETNEXT and GETBULK.
const std::vector<ber::Oid>& mib() {
  static const std::vector<ber::Oid> all = [] {
    std::vector<ber::Oid> v;
    for (auto column : kColumns)
      for (std::uint32_t r = 1; r <= kRows; ++r) {
        auto o = kIfEntry;
        o.push_back(column);
        o.push_back(r);
        v.push_back(std::move(o));
      }
    for (std::uint32_t i = 1; i <= kScalars; ++i) {
      auto o = kScalarBase;
      o.push_back(i);
      o.push_back(0);
      v.push_back(std::move(o));
    }
    std::sort(v.begin(), v.end());
    return v;
  }();
  return all;
}

bool has_prefix(const ber::Oid& oid, const ber::Oid& prefix) {
  return oid.size() > prefix.size() && std::equal(prefix.begin(), prefix.end(), oid.begin());
}

ber::Value exception(std::uint8_t tag) { return ber::Value{tag, 0, {}}; }

}  // namespace

Result<SnmpRule> SnmpRule::parse(std::string_view text) {
  const auto eq = text.find('=');
  auto bad = make_error("devicesim.bad_rule", "--snmp-agent " + std::string(text) +
                                                  ": expected L[-M]=SPEC, e.g. 3=hang or 10-19=slow:3s");
  if (eq == std::string_view::npos || eq == 0) return bad;
  SnmpRule r;
  const std::string range(text.substr(0, eq));
  try {
    const auto dash = range.find('-');
    std::size_t used = 0;
    r.first = static_cast<unsigned>(std::stoul(range.substr(0, dash), &used));
    if (used != (dash == std::string::npos ? range.size() : dash)) return bad;
    r.last = dash == std::string::npos ? r.first : static_cast<unsigned>(std::stoul(range.substr(dash + 1)));
  } catch (const std::exception&) {
    return bad;
  }
  if (r.first > r.last) return bad;
  const std::string_view spec = text.substr(eq + 1);
  if (spec == "normal") {
    r.behaviour.kind = SnmpBehaviour::Kind::normal;
  } else if (spec == "hang") {
    r.behaviour.kind = SnmpBehaviour::Kind::hang;
  } else if (spec.rfind("slow:", 0) == 0) {
    auto d = pollers::parse_duration(spec.substr(5), "slow");
    if (!d) return bad;
    r.behaviour.kind = SnmpBehaviour::Kind::slow;
    r.behaviour.delay = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
  } else {
    return bad;
  }
  return r;
}

const SnmpBehaviour& SnmpSimulator::behaviour(unsigned listener) const {
  for (auto it = rules.rbegin(); it != rules.rend(); ++it)  // later rules win
    if (listener >= it->first && listener <= it->last) return it->behaviour;
  static const SnmpBehaviour normal{};
  return normal;
}

std::optional<ber::Value> SnmpSimulator::value(unsigned listener, const ber::Oid& oid, std::uint64_t t) const {
  if (!std::binary_search(mib().begin(), mib().end(), oid)) return std::nullopt;
  const auto wrap = [](std::uint64_t v) { return static_cast<std::int64_t>(v & 0xffffffffu); };
  if (has_prefix(oid, kScalarBase)) {
    const std::uint32_t i = oid[kScalarBase.size()];
    const std::uint8_t tag = kScalarTypes[(i - 1) % 4];
    switch (tag) {
      case ber::integer: return ber::Value{tag, 1000 + i + listener, {}};
      case ber::gauge32: return ber::Value{tag, wrap(1000 + i + t % 60), {}};
      case ber::counter32: return ber::Value{tag, wrap(1000ull * i + listener + 10 * t), {}};
      default: return ber::Value{tag, wrap(100 * t), {}};  // TimeTicks: centiseconds up
    }
  }
  const std::uint32_t column = oid[kIfEntry.size()], row = oid[kIfEntry.size() + 1];
  if (column == 2) return ber::Value{ber::octet_string, 0, "eth" + std::to_string(row)};
  const std::uint64_t scale = column == 10 ? 1000 : 2000;
  return ber::Value{ber::counter32, wrap(row * scale + t * row * scale / 10), {}};
}

std::optional<std::vector<std::uint8_t>> SnmpSimulator::answer(unsigned listener,
                                                               std::span<const std::uint8_t> datagram) {
  auto request = ber::decode_request(datagram);
  if (!request || request->version != 1) {  // garbage, v1 or v3: not answered
    dropped.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  if (request->community != community) {
    wrong_community.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  requests.fetch_add(1, std::memory_order_relaxed);
  const auto t = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - epoch).count());
  const auto next = [&](const ber::Oid& after) -> ber::Varbind {
    const auto it = std::upper_bound(mib().begin(), mib().end(), after);
    if (it == mib().end()) return {after, exception(ber::end_of_mib_view)};
    return {*it, *value(listener, *it, t)};
  };
  std::vector<ber::Varbind> out;
  const auto& oids = request->oids;
  if (request->pdu == ber::pdu_get) {
    for (const auto& o : oids) out.push_back({o, value(listener, o, t).value_or(exception(ber::no_such_object))});
  } else if (request->pdu == ber::pdu_get_next) {
    for (const auto& o : oids) out.push_back(next(o));
  } else {
    // GETBULK (RFC 3416 4.2.3): the first N once, then up to M rounds of the
    // others, cut short when every repeater has reached the end of the MIB.
    const auto n = static_cast<std::size_t>(std::clamp<std::int64_t>(request->non_repeaters, 0, std::ssize(oids)));
    const auto m = std::clamp<std::int64_t>(request->max_repetitions, 0, 1000);
    for (std::size_t i = 0; i < n; ++i) out.push_back(next(oids[i]));
    std::vector<ber::Oid> last(oids.begin() + static_cast<std::ptrdiff_t>(n), oids.end());
    for (std::int64_t round = 0; round < m && !last.empty() && out.size() + last.size() <= kMaxVarbinds; ++round) {
      bool any = false;
      for (auto& o : last) {
        auto vb = next(o);
        any = any || vb.value.tag != ber::end_of_mib_view;
        o = vb.oid;
        out.push_back(std::move(vb));
      }
      if (!any) break;
    }
    auto bytes = ber::encode_response(*request, 0, 0, out);
    // Too big for the agent's message size: fewer repetitions, as RFC 3416 allows.
    const std::size_t repeaters = oids.size() - n;
    while (bytes.size() > max_message && repeaters > 0 && out.size() >= n + repeaters) {
      out.resize(out.size() - repeaters);
      bytes = ber::encode_response(*request, 0, 0, out);
    }
    return bytes;
  }
  auto bytes = ber::encode_response(*request, 0, 0, out);
  if (bytes.size() > max_message) {
    std::vector<ber::Varbind> names;
    for (const auto& o : oids) names.push_back({o, exception(ber::null)});
    return ber::encode_response(*request, 1 /* tooBig */, 0, names);
  }
  return bytes;
}

namespace {

// One agent: a socket that receives a datagram at a time, on its own strand
// (device-sim may run several threads).
struct Agent : std::enable_shared_from_this<Agent> {
  Agent(asio::io_context& io, udp::endpoint at, SnmpSimulator& sim, unsigned listener)
      : strand(asio::make_strand(io)), socket(strand, at), simulator(sim), listener(listener) {}
  asio::strand<asio::io_context::executor_type> strand;
  udp::socket socket;
  SnmpSimulator& simulator;
  unsigned listener;
  std::array<std::uint8_t, 65536> buffer{};
  udp::endpoint from;

  void receive() {
    socket.async_receive_from(asio::buffer(buffer), from,
                              [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                                if (ec == asio::error::operation_aborted) return;
                                if (!ec) self->on_datagram(n);
                                self->receive();
                              });
  }

  void on_datagram(std::size_t n) {
    const auto& b = simulator.behaviour(listener);
    if (b.kind == SnmpBehaviour::Kind::hang) return;
    auto reply = simulator.answer(listener, std::span(buffer.data(), n));
    if (!reply) return;
    if (b.kind == SnmpBehaviour::Kind::normal) return send(*reply, from);
    auto timer = std::make_shared<asio::steady_timer>(strand, b.delay);
    timer->async_wait([self = shared_from_this(), timer, to = from,
                       bytes = std::move(*reply)](const boost::system::error_code& ec) {
      if (!ec) self->send(bytes, to);
    });
  }

  void send(const std::vector<std::uint8_t>& bytes, const udp::endpoint& to) {
    boost::system::error_code ignored;  // a full socket buffer loses the answer, as UDP does
    socket.send_to(asio::buffer(bytes), to, 0, ignored);
  }
};

}  // namespace

udp::endpoint listen_snmp(asio::io_context& io, udp::endpoint endpoint, SnmpSimulator& simulator,
                          unsigned listener) {
  auto agent = std::make_shared<Agent>(io, endpoint, simulator, listener);
  agent->socket.set_option(asio::socket_base::receive_buffer_size(1 << 20));
  const auto bound = agent->socket.local_endpoint();
  asio::post(agent->strand, [agent] { agent->receive(); });
  return bound;
}

std::string snmp_behaviour_help() {
  return R"(SNMP mode (--snmp): each listener is an SNMPv2c agent on its own UDP port (community
--snmp-community), answering GET, GETNEXT and GETBULK for 1.3.6.1.4.1.99999.1.<i>.0 (i = 1..10:
INTEGER, Gauge32, Counter32, TimeTicks in turn) and ifDescr, ifInOctets, ifOutOctets
(1.3.6.1.2.1.2.2.1.{2,10,16}.<row>, rows 1..24); counters and TimeTicks advance every second.
A wrong community, SNMPv1/v3 or a datagram that is not SNMP gets no answer.
Agent behaviours (--snmp-agent L[-M]=SPEC, listeners L..M, 0-based):
  normal | hang (never answers) | slow:<dur> (answers after a delay)
Send SIGUSR1 to print "snmp_requests=<N> snmp_wrong_community=<N> snmp_dropped=<N>" on stdout.
Example:
  device-sim --snmp --listen 127.0.0.1:0 --listeners 1000 --snmp-agent 7=hang --snmp-agent 10-19=slow:3s
)";
}

}  // namespace edgepoll::devicesim
