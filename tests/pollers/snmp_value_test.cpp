// Every conversion, on net-snmp varbinds built in memory the way net-snmp's
// parser leaves them, and the OID helpers and counter rates.
#include <gtest/gtest.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include "edgepoll/pollers/snmp/snmp_value.hpp"

namespace edgepoll::pollers {
namespace {

// One varbind of `type` holding `bytes`, freed with the test.
struct Var {
  netsnmp_variable_list* list = nullptr;
  Var(u_char type, const void* value, std::size_t length) {
    const oid name[] = {1, 3, 6, 1, 2, 1, 1, 3, 0};
    snmp_varlist_add_variable(&list, name, OID_LENGTH(name), type, value, length);
  }
  ~Var() { snmp_free_varbind(list); }
  SnmpValue value() const { return varbind_from_netsnmp(*list).value; }
};

ReadingValue ok(const SnmpValue& v, OctetFormat f = OctetFormat::automatic) {
  auto r = convert_value(v, f);
  EXPECT_TRUE(r.ok()) << r.error().describe();
  return r.ok() ? r.value() : ReadingValue{};
}

TEST(SnmpValue, IntegerGaugeCounterTimeticks) {
  long i = -42;
  EXPECT_EQ(std::get<std::int64_t>(ok(Var(ASN_INTEGER, &i, sizeof i).value())), -42);
  // 32-bit unsigned types come in a long; a high bit set must stay a large positive number.
  unsigned long g = 4294967295ul;
  EXPECT_EQ(std::get<std::int64_t>(ok(Var(ASN_GAUGE, &g, sizeof g).value())), 4294967295ll);
  unsigned long c = 123456;
  const auto counter = Var(ASN_COUNTER, &c, sizeof c).value();
  EXPECT_EQ(counter.type, SnmpType::counter32);
  EXPECT_EQ(std::get<std::int64_t>(ok(counter)), 123456);
  EXPECT_EQ(counter_value(counter), 123456u);
  unsigned long ticks = 12345;  // hundredths of a second
  EXPECT_DOUBLE_EQ(std::get<double>(ok(Var(ASN_TIMETICKS, &ticks, sizeof ticks).value())), 123.45);
}

TEST(SnmpValue, Counter64BothHalvesAndAboveInt64) {
  counter64 c{};
  c.high = 1;
  c.low = 5;
  const auto v = Var(ASN_COUNTER64, &c, sizeof c).value();
  EXPECT_EQ(v.type, SnmpType::counter64);
  EXPECT_EQ(std::get<std::int64_t>(ok(v)), (std::int64_t{1} << 32) + 5);
  c.high = 0xffffffff;
  c.low = 0xffffffff;
  EXPECT_DOUBLE_EQ(std::get<double>(ok(Var(ASN_COUNTER64, &c, sizeof c).value())), 18446744073709551615.0);
}

TEST(SnmpValue, OctetStringAsTextHexOrAutomatic) {
  const std::string text = "eth0";
  const auto v = Var(ASN_OCTET_STR, text.data(), text.size()).value();
  EXPECT_EQ(std::get<std::string>(ok(v)), "eth0");
  EXPECT_EQ(std::get<std::string>(ok(v, OctetFormat::text)), "eth0");
  EXPECT_EQ(std::get<std::string>(ok(v, OctetFormat::hex)), "65:74:68:30");
  const unsigned char mac[] = {0x00, 0x1a, 0x2b, 0xff, 0x10, 0x01};
  const auto m = Var(ASN_OCTET_STR, mac, sizeof mac).value();
  EXPECT_EQ(std::get<std::string>(ok(m)), "00:1a:2b:ff:10:01");  // not printable: hex
  auto refused = convert_value(m, OctetFormat::text);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "pollers.snmp.not_text");
  const std::string with_nul("UPS\0", 4);  // agents that count the C string's NUL
  EXPECT_EQ(std::get<std::string>(ok(Var(ASN_OCTET_STR, with_nul.data(), with_nul.size()).value())), "UPS");
}

TEST(SnmpValue, IpAddressObjectIdAndOpaque) {
  const unsigned char ip[] = {10, 0, 0, 254};
  EXPECT_EQ(std::get<std::string>(ok(Var(ASN_IPADDRESS, ip, sizeof ip).value())), "10.0.0.254");
  const oid id[] = {1, 3, 6, 1, 4, 1, 8072, 3, 2, 10};
  EXPECT_EQ(std::get<std::string>(ok(Var(ASN_OBJECT_ID, id, sizeof id).value())), "1.3.6.1.4.1.8072.3.2.10");
  const unsigned char opaque[] = {0x9f, 0x78};
  EXPECT_EQ(std::get<std::string>(ok(Var(ASN_OPAQUE, opaque, sizeof opaque).value())), "9f:78");
}

TEST(SnmpValue, ExceptionsAreFieldErrorsByName) {
  const std::pair<u_char, const char*> cases[] = {
      {SNMP_NOSUCHOBJECT, "pollers.snmp.no_such_object"},
      {SNMP_NOSUCHINSTANCE, "pollers.snmp.no_such_instance"},
      {SNMP_ENDOFMIBVIEW, "pollers.snmp.end_of_mib_view"},
      {ASN_NULL, "pollers.snmp.null"},
  };
  for (const auto& [type, code] : cases) {
    auto r = convert_value(Var(type, nullptr, 0).value(), OctetFormat::automatic);
    ASSERT_FALSE(r.ok()) << code;
    EXPECT_EQ(r.error().code, code);
    EXPECT_FALSE(r.error().retryable);
  }
}

TEST(SnmpValue, OidParsingAndPrefixes) {
  EXPECT_EQ(parse_oid("1.3.6.1.2.1.1.3.0"), (Oid{1, 3, 6, 1, 2, 1, 1, 3, 0}));
  EXPECT_EQ(parse_oid(".1.3.6"), (Oid{1, 3, 6}));
  for (const char* bad : {"", "1", "1..3", "1.3.", "1.3.x", "1.3.99999999999", "iso.3.6"})
    EXPECT_FALSE(parse_oid(bad)) << bad;
  EXPECT_EQ(oid_text({1, 3, 6, 1}), "1.3.6.1");
  EXPECT_TRUE(oid_under({1, 3, 6, 1, 2}, {1, 3, 6, 1}));
  EXPECT_FALSE(oid_under({1, 3, 6, 1}, {1, 3, 6, 1}));
  EXPECT_FALSE(oid_under({1, 3, 6, 2, 1}, {1, 3, 6, 1}));
}

TEST(SnmpValue, CounterRatesAcrossAWrap) {
  EXPECT_DOUBLE_EQ(counter_rate(1000, 3000, 10.0, 32), 200.0);
  // Counter32 from 2^32 - 100 to 900: 1,000 counted across the wrap.
  EXPECT_DOUBLE_EQ(counter_rate(4294967196ull, 900, 10.0, 32), 100.0);
  // Counter64 likewise at 2^64.
  EXPECT_DOUBLE_EQ(counter_rate(18446744073709551516ull, 900, 10.0, 64), 100.0);
}

}  // namespace
}  // namespace edgepoll::pollers
