#pragma once
// One poll of one SNMP agent, as a sequence of requests on its SnmpAgent (one
// in flight at a time, so that an agent is never flooded by its own poller):
//
// - scalars: the device's metrics in GET PDUs of up to max_oids_per_pdu OIDs;
//   a PDU the agent answers `tooBig` is split in halves and sent again (one OID
//   that is still too big is a field error); SNMPv1's noSuchName drops the named
//   OID (a field error) and sends the rest again;
// - tables: each walked with GETBULK (GETNEXT for v1) over all its columns at
//   once, until every column has left its subtree, or `max_rows` rows or
//   `max_walk_time` are reached (the rows so far are kept, and a field error
//   says the walk was cut short).
//
// A request that fails outright (timeout after retries, a USM report) ends the
// poll with that error: an agent that does not answer one request is not
// waited on for the next.
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "edgepoll/pollers/snmp/snmp_agent.hpp"
#include "edgepoll/pollers/snmp/snmp_config.hpp"
#include "edgepoll/supervision/clock.hpp"

namespace edgepoll::pollers {

struct SnmpTableRows {
  // Row index (the OID suffix after the column) -> a value per column, then
  // per tag column, in config order; absent where the agent has no value.
  std::map<Oid, std::vector<std::optional<SnmpValue>>> rows;
  std::optional<Error> error;  // the walk ended early or the agent refused it
};

struct SnmpResponse {
  std::vector<std::optional<SnmpValue>> scalars;  // per configured metric
  std::vector<std::optional<Error>> failed;       // the same length: why a scalar is missing
  std::vector<SnmpTableRows> tables;              // per configured table
  Duration elapsed{};                             // first request sent to last answer
  supervision::TimePoint taken_at{};              // when the poll started (for rates)
  unsigned requests = 0;                          // PDUs this poll sent
  unsigned splits = 0;                            // GETs split after tooBig
};

class SnmpPoll : public std::enable_shared_from_this<SnmpPoll> {
 public:
  using Done = std::function<void(Result<SnmpResponse>)>;
  SnmpPoll(const SnmpDeviceConfig& config, SnmpAgent& agent, const supervision::Clock& clock, Done done);
  // Sends the first request; `done` runs once, from the io_context.
  void start();

 private:
  void next();
  void on_scalars(std::vector<std::size_t> batch, Result<SnmpReply> reply);
  void walk_step();
  void on_walk(std::vector<std::size_t> columns, Result<SnmpReply> reply);
  void finish(std::optional<Error> error);
  template <class Handler>
  void send(SnmpRequest request, Handler handler);

  const SnmpDeviceConfig& config_;
  SnmpAgent& agent_;
  const supervision::Clock& clock_;
  Done done_;
  SnmpResponse response_;
  std::vector<std::vector<std::size_t>> batches_;  // scalar batches still to send (back = next)
  std::size_t table_ = 0;                           // the table being walked
  std::vector<Oid> column_oids_;                    // its columns, then its tag columns
  std::vector<Oid> last_;                           // per column: the last OID seen
  std::vector<bool> column_done_;
  supervision::TimePoint walk_started_{};
};

}  // namespace edgepoll::pollers
