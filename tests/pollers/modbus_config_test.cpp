// The Modbus device table: every key parsed, addressing explicit, one-based
// addresses converted, and each mistake refused naming the device and key.
#include <gtest/gtest.h>

#include "edgepoll/pollers/device_config.hpp"

namespace edgepoll::pollers {
namespace {

Result<DeviceConfig> parse(const std::string& text) {
  return DeviceConfig::parse(toml::parse(text));
}

const char* kMeter = R"(
id = "meter-7"
protocol = "modbus"
interval = "1s"
timeout = "300ms"
[modbus]
gateway = "127.0.0.1:5020"
unit_id = 7
addressing = "one_based"
max_gap = 4
one_request_per_field = false
max_outstanding = 2
[[modbus.metrics]]
name = "voltage"
table = "input"
address = 1
type = "float32"
order = "CDAB"
scale = 0.1
offset = 1
unit = "V"
[[modbus.metrics]]
name = "alarm"
address = 10
type = "bool"
bit = 15
[[modbus.metrics]]
name = "serial"
address = 20
type = "string"
registers = 4
)";

TEST(ModbusConfig, ParsesEveryKey) {
  auto c = parse(kMeter);
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ(c->protocol, Protocol::modbus);
  ASSERT_TRUE(c->modbus);
  const auto& m = *c->modbus;
  EXPECT_EQ(m.gateway(), "127.0.0.1:5020");
  EXPECT_EQ(m.unit_id, 7);
  EXPECT_TRUE(m.one_based);
  EXPECT_EQ(m.max_gap, 4);
  EXPECT_EQ(m.max_outstanding, 2u);
  ASSERT_EQ(m.fields.size(), 3u);
  EXPECT_EQ(m.fields[0].address, 0);  // one-based 1 is the first register on the wire
  EXPECT_EQ(m.fields[0].table, ModbusTable::input);
  EXPECT_EQ(m.fields[0].order, ByteOrder::CDAB);
  EXPECT_DOUBLE_EQ(m.fields[0].scale, 0.1);
  EXPECT_DOUBLE_EQ(m.fields[0].offset, 1.0);
  EXPECT_EQ(m.fields[0].unit, "V");
  EXPECT_EQ(m.fields[1].table, ModbusTable::holding);
  EXPECT_EQ(m.fields[1].bit, 15);
  EXPECT_EQ(m.fields[2].registers, 4);
  EXPECT_EQ(m.fields[2].width(), 4);
}

struct Bad {
  std::string from, to;  // a replacement in kMeter
  std::string expect;    // part of the error message
};

// The protocol tables live on the heap (an HTTP device carries a pointer, not
// ~350 bytes it never uses) and still behave as values: a copy is deep and
// configs compare by what the tables say (the config manager restarts a
// device only when its config changed).
TEST(ModbusConfig, TheTableIsHeldOnTheHeapAndCopiedAndComparedAsAValue) {
  static_assert(sizeof(DeviceConfig::modbus) == sizeof(void*));
  static_assert(sizeof(DeviceConfig::snmp) == sizeof(void*));
  auto c = parse(kMeter);
  ASSERT_TRUE(c.ok()) << c.error().describe();
  ASSERT_TRUE(c->modbus);
  EXPECT_FALSE(c->snmp);
  DeviceConfig copy = *c;
  EXPECT_EQ(copy, *c);
  EXPECT_NE(&*copy.modbus, &*c->modbus);
  copy.modbus->unit_id = 8;
  EXPECT_EQ(c->modbus->unit_id, 7);
  EXPECT_NE(copy, *c);
  copy = *c;
  EXPECT_EQ(copy, *c);
  copy.modbus.reset();
  EXPECT_NE(copy, *c);
  EXPECT_FALSE(copy.modbus);
}

TEST(ModbusConfig, RefusesMistakesNamingTheKey) {
  const std::vector<Bad> cases{
      {"addressing = \"one_based\"\n", "", "required key \"addressing\""},
      {"\"one_based\"", "\"one\"", "\"zero_based\" or \"one_based\""},
      {"unit_id = 7", "unit_id = 256", "key \"unit_id\" must be an integer from 0 to 255"},
      {"127.0.0.1:5020", "127.0.0.1", "key \"gateway\" must be HOST:PORT"},
      {"127.0.0.1:5020", "h:70000", "port from 1 to 65535"},
      {"order = \"CDAB\"", "order = \"ADCB\"", "one of ABCD, DCBA, BADC, CDAB"},
      {"type = \"float32\"", "type = \"float16\"", "key \"type\" must be one of bool"},
      {"table = \"input\"", "table = \"inputs\"", "one of coil, discrete_input, holding, input"},
      {"address = 1\n", "address = 0\n", "key \"address\" must be an integer from 1 to 65536"},
      {"bit = 15", "bit = 16", "key \"bit\" must be an integer from 0 to 15"},
      {"registers = 4", "", "required key \"registers\""},
      {"max_gap = 4", "max_gap = 200", "key \"max_gap\""},
      {"max_outstanding = 2", "max_outstanding = 0", "key \"max_outstanding\""},
      {"unit = \"V\"", "unit = \"V\"\nunits = 1", "unknown key \"units\""},
      {"protocol = \"modbus\"", "protocol = \"modbus\"\nurl = \"http://x/\"",
       "key \"url\" must be absent"},
      {"protocol = \"modbus\"", "protocol = \"modbuss\"", "\"http\", \"modbus\" or \"snmp\""},
      {"bit = 15", "bit = 15\nscale = 2", "absent for a bool or string field"},
  };
  for (const auto& b : cases) {
    std::string text = kMeter;
    const auto at = text.find(b.from);
    ASSERT_NE(at, std::string::npos) << b.from;
    text.replace(at, b.from.size(), b.to);
    auto c = parse(text);
    ASSERT_FALSE(c.ok()) << "accepted: " << b.to;
    EXPECT_NE(c.error().message.find(b.expect), std::string::npos) << c.error().message;
    EXPECT_NE(c.error().message.find("meter-7"), std::string::npos) << c.error().message;
  }
}

TEST(ModbusConfig, HttpDevicesRefuseAModbusTableAndModbusNeedsOne) {
  auto http = parse("id = \"d\"\nurl = \"http://x/\"\n[modbus]\ngateway = \"h:1\"\n");
  ASSERT_FALSE(http.ok());
  EXPECT_NE(http.error().message.find("absent unless protocol = \"modbus\""), std::string::npos);
  auto bare = parse("id = \"d\"\nprotocol = \"modbus\"\n");
  ASSERT_FALSE(bare.ok());
  EXPECT_NE(bare.error().message.find("required key \"modbus\""), std::string::npos);
}

}  // namespace
}  // namespace edgepoll::pollers
