#pragma once
// SNMP requests to many agents on one Asio io_context, on net-snmp's
// single-session API (snmp_sess_*, the reentrant one): each agent has its own
// net-snmp session and UDP socket, watched by Asio (async_wait on the socket,
// net-snmp's retransmission timeouts on an Asio timer). No thread per agent and
// no blocking call: SNMPv3 engine discovery, which snmp_sess_open would do
// synchronously, is sent here as an ordinary asynchronous probe before the
// first request. One slow or dead agent never delays another.
//
// Every failure (timeout after the retries, a USM report such as a wrong
// passphrase or an unknown user, a send error) comes to the callback as an
// Error value; an answer from another address than the agent's is dropped and
// counted (`stray`), so that the request waits on for the real one.
// Threading: one thread (or strand) of the io_context, like HttpFetcher.
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "edgepoll/pollers/duration.hpp"
#include "edgepoll/pollers/snmp/snmp_config.hpp"
#include "edgepoll/pollers/snmp/snmp_value.hpp"
#include "edgepoll/supervision/result.hpp"

namespace edgepoll::pollers {

struct SnmpRequest {
  enum class Kind { get, get_next, get_bulk };
  Kind kind = Kind::get;
  std::vector<Oid> oids;
  unsigned max_repetitions = 10;  // get_bulk
};

// The agent's answer. A non-zero error_status (tooBig = 1, noSuchName = 2,
// genErr = 5 ...) is an answer too: the caller decides (split, drop a field).
struct SnmpReply {
  long error_status = 0;
  long error_index = 0;  // 1-based index of the varbind the error is about
  std::vector<SnmpVarbind> varbinds;
  Duration elapsed{};  // sent to answered, retransmissions included
};
using SnmpCallback = std::function<void(Result<SnmpReply>)>;

// Atomics: /metrics reads them from another thread than the loop that counts.
struct SnmpTransportStats {
  std::atomic<std::uint64_t> requests{0};  // PDUs sent (engine probes included, retransmissions not)
  std::atomic<std::uint64_t> answers{0};   // answers matched to their request
  std::atomic<std::uint64_t> timeouts{0};  // requests unanswered after their retries
  std::atomic<std::uint64_t> reports{0};   // USM reports that failed a request (credentials)
  std::atomic<std::uint64_t> stray{0};     // answers from another address than the agent's
};

class SnmpAgent {
 public:
  ~SnmpAgent();
  SnmpAgent(const SnmpAgent&) = delete;
  SnmpAgent& operator=(const SnmpAgent&) = delete;
  // One request at a time (a second one before the first's callback is a
  // broken invariant and throws). `done` runs once on the io_context, never
  // inside this call, unless cancel() comes first.
  void send(SnmpRequest request, SnmpCallback done);
  void cancel();

  struct Impl;

 private:
  friend class SnmpTransport;
  explicit SnmpAgent(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

class SnmpTransport {
 public:
  // Initialises net-snmp once per process (init_snmp is not reentrant): no
  // config or persistent files read or written, no MIB files needed, its own
  // messages to our log at debug level (errors come back as values and are
  // logged once by the caller).
  explicit SnmpTransport(boost::asio::io_context& io);
  // A session with the agent: `timeout` per attempt, config.retries more.
  // Errors: pollers.snmp.open_failed (e.g. an address that does not resolve),
  // pollers.snmp.bad_passphrase (net-snmp could not derive a key from it).
  Result<std::unique_ptr<SnmpAgent>> open(const std::string& device_id, const SnmpDeviceConfig& config,
                                          const SnmpSecrets& secrets, Duration timeout);
  const SnmpTransportStats& stats() const { return *stats_; }
  std::shared_ptr<const SnmpTransportStats> shared_stats() const { return stats_; }

 private:
  boost::asio::io_context& io_;
  std::shared_ptr<SnmpTransportStats> stats_ = std::make_shared<SnmpTransportStats>();
};

}  // namespace edgepoll::pollers
