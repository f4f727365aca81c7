#pragma once
// An SNMP agent's protocol table, e.g. a switch read with SNMPv3:
//
//   [[device]]
//   id = "switch-3"
//   protocol = "snmp"
//   interval = "10s"
//   timeout = "1s"                      # per attempt; `retries` more attempts after it
//   [device.snmp]
//   agent = "10.0.0.30:161"             # host:port (UDP)
//   version = "3"                       # "1", "2c" or "3"
//   community_file = "..."              # v1 / v2c: the file holding the community
//   user = "edgepoll"                   # v3: USM user name
//   security_level = "authPriv"         # noAuthNoPriv, authNoPriv or authPriv
//   auth_protocol = "SHA"               # MD5, SHA, SHA-224, SHA-256, SHA-384, SHA-512
//   auth_passphrase_file = "..."
//   priv_protocol = "AES"               # AES (128), AES-192, AES-256, DES
//   priv_passphrase_file = "..."
//   context = ""                        # v3 context name
//   retries = 1
//   max_oids_per_pdu = 32               # scalars per GET (halved when the agent says tooBig)
//   [[device.snmp.metrics]]
//   name = "sys.uptime"  oid = "1.3.6.1.2.1.1.3.0"  unit = "s"
//   [[device.snmp.tables]]
//   name = "if"  index_tag = "ifIndex"  max_repetitions = 10  max_rows = 1000  max_walk_time = "5s"
//   columns = [ { name = "in_octets", oid = "1.3.6.1.2.1.2.2.1.10", rate = true } ]
//   tags = [ { name = "ifDescr", oid = "1.3.6.1.2.1.2.2.1.2" } ]
//
// OIDs are numeric (dotted). Secrets are never in the config, only the files
// that hold them. Unknown keys are rejected by name, like every config section.
#include <toml++/toml.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "edgepoll/pollers/duration.hpp"
#include "edgepoll/pollers/snmp/snmp_value.hpp"
#include "edgepoll/supervision/result.hpp"

namespace edgepoll::pollers {

enum class SnmpVersion { v1, v2c, v3 };
enum class SnmpSecurityLevel { no_auth_no_priv, auth_no_priv, auth_priv };
enum class SnmpAuthProtocol { md5, sha, sha224, sha256, sha384, sha512 };
enum class SnmpPrivProtocol { aes128, aes192, aes256, des };
std::string_view snmp_version_name(SnmpVersion v);
std::string_view snmp_auth_protocol_name(SnmpAuthProtocol p);
std::string_view snmp_priv_protocol_name(SnmpPrivProtocol p);

// A scalar metric, a table column or a tag: where it is and how it becomes a value.
struct SnmpField {
  std::string name;
  Oid oid;
  OctetFormat format = OctetFormat::automatic;
  bool rate = false;  // counters only: per-second rate between two polls (wrap-aware)
  std::string unit;
  bool operator==(const SnmpField&) const = default;
};

// A table walked with GETBULK (GETNEXT for v1): one reading per row and column,
// tagged with the row's index (`index_tag`) and with the row's tag columns.
struct SnmpTable {
  std::string name;  // readings are "<name>.<column name>"
  std::string index_tag = "index";
  std::vector<SnmpField> columns;
  std::vector<SnmpField> tags;
  unsigned max_repetitions = 10;
  unsigned max_rows = 1000;
  Duration max_walk_time = std::chrono::seconds(5);
  bool operator==(const SnmpTable&) const = default;
};

struct SnmpDeviceConfig {
  std::string host;
  std::uint16_t port = 161;
  SnmpVersion version = SnmpVersion::v2c;
  std::string community_file;  // v1 / v2c
  std::string user;            // v3 from here on
  SnmpSecurityLevel security_level = SnmpSecurityLevel::auth_priv;
  SnmpAuthProtocol auth_protocol = SnmpAuthProtocol::sha;
  std::string auth_passphrase_file;
  SnmpPrivProtocol priv_protocol = SnmpPrivProtocol::aes128;
  std::string priv_passphrase_file;
  std::string context;
  unsigned retries = 1;
  unsigned max_oids_per_pdu = 32;
  std::vector<SnmpField> metrics;
  std::vector<SnmpTable> tables;
  bool operator==(const SnmpDeviceConfig&) const = default;

  std::string agent() const { return host + ":" + std::to_string(port); }
  // `where` names the device in errors, e.g. `device "switch-3"`.
  static Result<SnmpDeviceConfig> parse(const toml::table& table, const std::string& where);
};

// The secrets of a device, read from their files when its connection starts.
struct SnmpSecrets {
  std::string community;
  std::string auth_passphrase;
  std::string priv_passphrase;
};
Result<SnmpSecrets> load_snmp_secrets(const SnmpDeviceConfig& config, const std::string& device_id);

}  // namespace edgepoll::pollers
