// The bytes of an SNMP agent's answer PDU (what follows the version and the
// community in a v2c message), through what edgepoll does with them: net-snmp
// parses the PDU as it does for a real answer, each varbind is copied into
// edgepoll's types (varbind_from_netsnmp) and converted in every octet format,
// and the varbinds fill a device's scalars (in order) and its table's rows
// (by column prefix, the rest of the OID as the row index), which the
// device's SnmpDecoder turns into readings twice, ten seconds apart, so that
// the counter rates are computed too. Beyond not crashing: every conversion
// and every field error is a value or an error an operator can read.
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include <chrono>
#include <vector>

#include <toml++/toml.h>

#include "edgepoll/pollers/device_config.hpp"
#include "edgepoll/pollers/snmp/snmp_decoder.hpp"
#include "edgepoll/pollers/snmp/snmp_poll.hpp"
#include "edgepoll/pollers/snmp/snmp_value.hpp"
#include "fuzz_support.hpp"

namespace {

using namespace edgepoll;
using namespace edgepoll::pollers;

constexpr const char* kSwitch = R"(
id = "switch-3"
protocol = "snmp"
[snmp]
agent = "127.0.0.1:161"
version = "2c"
community_file = "/etc/edgepoll/secrets/switch-3.community"
[[snmp.metrics]]
name = "sys.uptime"
oid = "1.3.6.1.2.1.1.3.0"
[[snmp.metrics]]
name = "sys.name"
oid = "1.3.6.1.2.1.1.5.0"
format = "text"
[[snmp.metrics]]
name = "packets"
oid = "1.3.6.1.2.1.4.3.0"
rate = true
[[snmp.metrics]]
name = "serial"
oid = "1.3.6.1.2.1.47.1.1.1.1.11.1"
format = "hex"
[[snmp.tables]]
name = "if"
index_tag = "ifIndex"
columns = [ { name = "in_octets", oid = "1.3.6.1.2.1.2.2.1.10", rate = true },
            { name = "oper_status", oid = "1.3.6.1.2.1.2.2.1.8" } ]
tags = [ { name = "ifDescr", oid = "1.3.6.1.2.1.2.2.1.2" } ]
)";

const DeviceConfig& device() {
  static const DeviceConfig config = [] {
    auto c = DeviceConfig::parse(toml::parse(kSwitch));
    if (!c) std::fprintf(stderr, "%s\n", c.error().describe().c_str());
    fuzz::require(c.ok() && c->snmp.has_value(), "the fuzz target's own device config parses");
    return c.value();
  }();
  return config;
}

void check_conversions(const SnmpValue& value) {
  for (auto format : {OctetFormat::automatic, OctetFormat::text, OctetFormat::hex}) {
    auto converted = convert_value(value, format);
    if (!converted) fuzz::require_readable(converted.error());
  }
  (void)counter_value(value);
}

// The table's columns then its tags, as SnmpTableRows keeps a row's values.
std::vector<Oid> table_columns(const SnmpTable& table) {
  std::vector<Oid> columns;
  for (const auto& f : table.columns) columns.push_back(f.oid);
  for (const auto& f : table.tags) columns.push_back(f.oid);
  return columns;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = [] {
    snmp_disable_log();  // net-snmp reports parse errors on stderr; the result is what is checked
    return true;
  }();
  (void)quiet;
  const auto& config = *device().snmp;

  netsnmp_pdu* pdu = snmp_pdu_create(SNMP_MSG_RESPONSE);
  pdu->version = SNMP_VERSION_2c;
  std::vector<u_char> bytes(data, data + size);  // net-snmp's parser takes a non-const buffer
  size_t length = bytes.size();
  const bool parsed = snmp_pdu_parse(pdu, bytes.data(), &length) == 0;

  SnmpResponse response;
  response.scalars.resize(config.metrics.size());
  response.failed.resize(config.metrics.size());
  response.tables.resize(config.tables.size());
  const auto columns = table_columns(config.tables.front());
  std::size_t next_scalar = 0;
  if (parsed) {
    for (auto* var = pdu->variables; var; var = var->next_variable) {
      auto varbind = varbind_from_netsnmp(*var);
      check_conversions(varbind.value);
      bool in_table = false;
      for (std::size_t c = 0; c < columns.size(); ++c) {
        if (!oid_under(varbind.oid, columns[c])) continue;
        const Oid index(varbind.oid.begin() + static_cast<std::ptrdiff_t>(columns[c].size()), varbind.oid.end());
        auto& row = response.tables.front().rows[index];
        row.resize(columns.size());
        row[c] = varbind.value;
        in_table = true;
        break;
      }
      if (!in_table && next_scalar < response.scalars.size()) response.scalars[next_scalar++] = varbind.value;
    }
  }
  for (std::size_t i = next_scalar; i < response.scalars.size(); ++i)
    response.failed[i] = make_error("pollers.snmp.timeout", "not in the fuzz input", true);
  snmp_free_pdu(pdu);

  SnmpDecoder decoder(device().id, config);
  for (int poll = 0; poll < 2; ++poll) {
    response.taken_at = supervision::TimePoint(std::chrono::seconds(10 + 10 * poll));
    auto outcome = decoder.decode(response);
    if (!outcome) {
      fuzz::require_readable(outcome.error());
      continue;
    }
    for (const auto& e : outcome->field_errors) fuzz::require_readable(e);
  }
  return 0;
}
