#pragma once
// SNMP mode of the simulator: every listener is one SNMPv2c agent on its own
// UDP port, answering GET, GETNEXT and GETBULK from the same MIB as the SNMP
// benchmark's recording: ten scalars under 1.3.6.1.4.1.99999.1 (INTEGER,
// Gauge32, Counter32, TimeTicks in turn) and a 24-row ifTable slice (ifDescr,
// ifInOctets, ifOutOctets). Counters and TimeTicks advance with time. A wrong
// community, another version or a datagram that is not SNMP gets no answer,
// as from a real agent. Agents can be scripted to stay silent or answer late.
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "edgepoll/supervision/result.hpp"
#include "snmp_ber.hpp"

namespace edgepoll::devicesim {

struct SnmpBehaviour {
  enum class Kind { normal, hang, slow } kind = Kind::normal;
  std::chrono::milliseconds delay{};  // slow:<dur>
};

// `L[-M]=SPEC`: the agents on listeners L..M (0-based).
struct SnmpRule {
  unsigned first = 0, last = 0;
  SnmpBehaviour behaviour;
  static Result<SnmpRule> parse(std::string_view text);
};

struct SnmpSimulator {
  std::string community = "public";
  std::size_t max_message = 65507;  // a GETBULK answer is cut to fit, a GET that does not fit is tooBig
  std::vector<SnmpRule> rules;
  std::chrono::steady_clock::time_point epoch = std::chrono::steady_clock::now();
  // Counted on every thread, printed on SIGUSR1.
  std::atomic<std::uint64_t> requests{0};         // well-formed requests with the right community
  std::atomic<std::uint64_t> wrong_community{0};  // well-formed, but another community: no answer
  std::atomic<std::uint64_t> dropped{0};          // not an SNMPv2c request: no answer

  const SnmpBehaviour& behaviour(unsigned listener) const;
  // The Response to `request` from the agent on `listener`, now; nullopt: no answer.
  std::optional<std::vector<std::uint8_t>> answer(unsigned listener, std::span<const std::uint8_t> datagram);

  // The value of `oid` on agent `listener` at `seconds` since the start;
  // nullopt when the MIB has no such object. Public for tests.
  std::optional<ber::Value> value(unsigned listener, const ber::Oid& oid, std::uint64_t seconds) const;
};

boost::asio::ip::udp::endpoint listen_snmp(boost::asio::io_context& io, boost::asio::ip::udp::endpoint endpoint,
                                           SnmpSimulator& simulator, unsigned listener);

std::string snmp_behaviour_help();

}  // namespace edgepoll::devicesim
