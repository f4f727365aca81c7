// The SNMP device table: every key parsed, and each mistake refused naming the
// device and the key; secrets read from their files.
#include <gtest/gtest.h>

#include "edgepoll/pollers/device_config.hpp"
#include "snmp_support.hpp"

namespace edgepoll::pollers {
namespace {

Result<DeviceConfig> parse(const std::string& text) { return DeviceConfig::parse(toml::parse(text)); }

const char* kSwitch = R"(
id = "switch-3"
protocol = "snmp"
interval = "10s"
timeout = "800ms"
[snmp]
agent = "10.0.0.30:1161"
version = "3"
user = "edgepoll"
security_level = "authPriv"
auth_protocol = "SHA-256"
auth_passphrase_file = "/etc/edgepoll/secrets/switch-3.auth"
priv_protocol = "AES-256"
priv_passphrase_file = "/etc/edgepoll/secrets/switch-3.priv"
context = "vlan-10"
retries = 2
max_oids_per_pdu = 16
[[snmp.metrics]]
name = "sys.uptime"
oid = "1.3.6.1.2.1.1.3.0"
unit = "s"
[[snmp.metrics]]
name = "sys.name"
oid = ".1.3.6.1.2.1.1.5.0"
format = "text"
[[snmp.tables]]
name = "if"
index_tag = "ifIndex"
max_repetitions = 24
max_rows = 500
max_walk_time = "2s"
columns = [ { name = "in_octets", oid = "1.3.6.1.2.1.2.2.1.10", rate = true, unit = "B/s" },
            { name = "oper_status", oid = "1.3.6.1.2.1.2.2.1.8" } ]
tags = [ { name = "ifDescr", oid = "1.3.6.1.2.1.2.2.1.2" }, { name = "mac", oid = "1.3.6.1.2.1.2.2.1.6", format = "hex" } ]
)";

TEST(SnmpConfig, ParsesEveryKey) {
  auto c = parse(kSwitch);
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ(c->protocol, Protocol::snmp);
  ASSERT_TRUE(c->snmp);
  const auto& s = *c->snmp;
  EXPECT_EQ(s.agent(), "10.0.0.30:1161");
  EXPECT_EQ(s.version, SnmpVersion::v3);
  EXPECT_EQ(s.user, "edgepoll");
  EXPECT_EQ(s.security_level, SnmpSecurityLevel::auth_priv);
  EXPECT_EQ(s.auth_protocol, SnmpAuthProtocol::sha256);
  EXPECT_EQ(s.priv_protocol, SnmpPrivProtocol::aes256);
  EXPECT_EQ(s.context, "vlan-10");
  EXPECT_EQ(s.retries, 2u);
  EXPECT_EQ(s.max_oids_per_pdu, 16u);
  ASSERT_EQ(s.metrics.size(), 2u);
  EXPECT_EQ(s.metrics[0].oid, (Oid{1, 3, 6, 1, 2, 1, 1, 3, 0}));
  EXPECT_EQ(s.metrics[0].unit, "s");
  EXPECT_EQ(s.metrics[1].format, OctetFormat::text);
  ASSERT_EQ(s.tables.size(), 1u);
  const auto& t = s.tables[0];
  EXPECT_EQ(t.name, "if");
  EXPECT_EQ(t.index_tag, "ifIndex");
  EXPECT_EQ(t.max_repetitions, 24u);
  EXPECT_EQ(t.max_rows, 500u);
  EXPECT_EQ(t.max_walk_time, std::chrono::seconds(2));
  ASSERT_EQ(t.columns.size(), 2u);
  EXPECT_TRUE(t.columns[0].rate);
  EXPECT_EQ(t.columns[0].unit, "B/s");
  ASSERT_EQ(t.tags.size(), 2u);
  EXPECT_EQ(t.tags[1].format, OctetFormat::hex);
}

TEST(SnmpConfig, V2cNeedsACommunityFile) {
  auto c = parse(R"(
id = "ups-1"
protocol = "snmp"
[snmp]
agent = "10.0.0.40:161"
version = "2c"
community_file = "/etc/edgepoll/secrets/ups-1.community"
[[snmp.metrics]]
name = "battery.charge"
oid = "1.3.6.1.2.1.33.1.2.4.0"
)");
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ(c->snmp->version, SnmpVersion::v2c);
  EXPECT_EQ(c->snmp->retries, 1u);            // default
  EXPECT_EQ(c->snmp->max_oids_per_pdu, 32u);  // default
}

TEST(SnmpConfig, RefusesMistakesNamingTheKey) {
  const std::string head = "id = \"s\"\nprotocol = \"snmp\"\n";
  const std::string v2 = "[snmp]\nagent = \"h:161\"\nversion = \"2c\"\ncommunity_file = \"/c\"\n";
  const std::string metric = "[[snmp.metrics]]\nname = \"m\"\noid = \"1.3.6.1\"\n";
  const std::pair<std::string, std::string> cases[] = {
      {head + v2 + "comunity = 1\n" + metric, "comunity"},
      {head + "[snmp]\nagent = \"h\"\nversion = \"2c\"\ncommunity_file = \"/c\"\n" + metric, "key \"agent\" must be HOST:PORT"},
      {head + "[snmp]\nagent = \"h:161\"\nversion = \"2\"\ncommunity_file = \"/c\"\n" + metric, "key \"version\""},
      {head + "[snmp]\nagent = \"h:161\"\nversion = \"2c\"\n" + metric, "\"community_file\" is missing"},
      {head + v2 + "user = \"u\"\n" + metric, "key \"user\" must be absent unless version = \"3\""},
      {head + v2, "key \"metrics\""},
      {head + v2 + "[[snmp.metrics]]\nname = \"m\"\noid = \"sysUpTime.0\"\n", "key \"oid\" must be a numeric OID"},
      {head + v2 + "[[snmp.metrics]]\nname = \"m\"\noid = \"1.3.6.1\"\nformat = \"base64\"\n", "key \"format\""},
      {head + "url = \"http://x\"\n" + v2 + metric, "key \"url\" must be absent for protocol = \"snmp\""},
      {head + "[snmp]\nagent = \"h:161\"\nversion = \"3\"\nuser = \"u\"\nsecurity_level = \"authNoPriv\"\n"
              "auth_protocol = \"SHA-1024\"\nauth_passphrase_file = \"/a\"\n" + metric, "key \"auth_protocol\""},
      {head + "[snmp]\nagent = \"h:161\"\nversion = \"3\"\nuser = \"u\"\nsecurity_level = \"authNoPriv\"\n"
              "auth_protocol = \"SHA\"\nauth_passphrase_file = \"/a\"\npriv_protocol = \"AES\"\n" + metric,
       "key \"priv_protocol\" must be absent unless security_level = \"authPriv\""},
      {head + "[snmp]\nagent = \"h:161\"\nversion = \"3\"\nuser = \"u\"\nsecurity_level = \"authPriv\"\n"
              "auth_protocol = \"SHA\"\nauth_passphrase_file = \"/a\"\npriv_protocol = \"AES\"\n" + metric,
       "\"priv_passphrase_file\" is missing"},
      {head + v2 + "[[snmp.tables]]\nname = \"if\"\ncolumns = []\n", "key \"columns\" must be a non-empty array"},
      {head + v2 + "[[snmp.tables]]\nname = \"if\"\nmax_rows = 0\ncolumns = [ { name = \"c\", oid = \"1.3.6.1\" } ]\n",
       "key \"max_rows\""},
      {head + v2 + "[[snmp.tables]]\nname = \"if\"\ncolumns = [ { name = \"c\", oid = \"1.3.6.1\" } ]\n"
              "tags = [ { name = \"t\", oid = \"1.3.6.2\", rate = true } ]\n", "rate"},
  };
  for (const auto& [text, expected] : cases) {
    auto c = parse(text);
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_NE(c.error().message.find(expected), std::string::npos) << c.error().message;
    EXPECT_NE(c.error().message.find("device \"s\""), std::string::npos) << c.error().message;
  }
}

TEST(SnmpConfig, SecretsComeFromTheirFiles) {
  testing::ScratchDir dir;
  SnmpDeviceConfig c;
  c.version = SnmpVersion::v3;
  c.auth_passphrase_file = dir.write("auth", "long-enough-pass\n");
  c.priv_passphrase_file = dir.write("priv", "short\n");
  auto s = load_snmp_secrets(c, "sw");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "pollers.config.secret_too_short");
  EXPECT_EQ(s.error().message.find("short"), std::string::npos);  // never the secret itself
  c.priv_passphrase_file = dir.write("priv", "another-long-one\n");
  s = load_snmp_secrets(c, "sw");
  ASSERT_TRUE(s.ok()) << s.error().describe();
  EXPECT_EQ(s->auth_passphrase, "long-enough-pass");
  EXPECT_EQ(s->priv_passphrase, "another-long-one");
  c.priv_passphrase_file = (dir.path() / "missing").string();
  s = load_snmp_secrets(c, "sw");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "pollers.config.secret_unreadable");
}

}  // namespace
}  // namespace edgepoll::pollers
