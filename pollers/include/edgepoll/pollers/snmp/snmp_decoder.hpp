#pragma once
// Turns one SNMP poll (SnmpResponse) into readings with the same shape as the
// other protocols': metric, value, unit, plus tags for table rows.
//
// - a scalar metric is one reading named by its `name`;
// - a table gives, per row and column, a reading "<table>.<column>" tagged
//   with `index_tag` = the row's index (e.g. "3", or "10.0.0.1" for an index of
//   four sub-ids) and with each tag column's value (e.g. ifDescr = "eth0");
// - `rate = true` on a Counter32/64 gives its per-second rate since the
//   previous poll (a smaller count is a wrap); the first poll has no rate yet.
//
// Values the agent could not give (noSuchObject ...) are field errors; the poll
// fails (pollers.decode.no_readings) only when nothing decoded and no rate was
// merely waiting for its second sample. It keeps the counters' last samples, so
// it lives in the fsm with the rest of the device's state.
#include <map>
#include <string>

#include "edgepoll/pollers/decoder.hpp"
#include "edgepoll/pollers/snmp/snmp_config.hpp"
#include "edgepoll/pollers/snmp/snmp_poll.hpp"

namespace edgepoll::pollers {

class SnmpDecoder {
 public:
  SnmpDecoder(std::string device_id, SnmpDeviceConfig config);
  Result<DecodeOutcome> decode(const SnmpResponse& response);
  const std::string& device_id() const { return device_id_; }

 private:
  struct Sample {
    std::uint64_t count = 0;
    supervision::TimePoint at{};
  };
  // A reading of `value` for `field` into `out`; false when a rate has no previous sample yet.
  bool convert(const SnmpField& field, const std::string& metric, const std::string& key, const SnmpValue& value,
               supervision::TimePoint at, DecodeOutcome& out, std::vector<std::pair<std::string, std::string>> tags);

  std::string device_id_;
  SnmpDeviceConfig config_;
  std::map<std::string, Sample> samples_;  // per rate field and row: the previous count
};

}  // namespace edgepoll::pollers
