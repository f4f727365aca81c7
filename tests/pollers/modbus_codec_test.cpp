// Every type x byte order x scale against pymodbus's own encodings: the vectors
// come from pymodbus's BinaryPayloadBuilder at test time
// (modbus/pymodbus_vectors.py under /usr/bin/python3); each is decoded by
// edgepoll's codec (with and without scale/offset) and edgepoll's encoder must
// produce pymodbus's registers (the reverse direction).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "edgepoll/pollers/modbus/register_codec.hpp"

namespace edgepoll::pollers {
namespace {

std::vector<nlohmann::json> pymodbus_vectors() {
  const std::string cmd =
      std::string("/usr/bin/python3 ") + MODBUS_TEST_DIR + "/pymodbus_vectors.py";
  FILE* p = popen(cmd.c_str(), "r");
  std::vector<nlohmann::json> out;
  if (p == nullptr) return out;
  char line[4096];
  while (fgets(line, sizeof line, p)) out.push_back(nlohmann::json::parse(line));
  pclose(p);
  return out;
}

ModbusType type_of(const std::string& name) {
  for (auto t : {ModbusType::boolean, ModbusType::int16, ModbusType::uint16, ModbusType::int32,
                 ModbusType::uint32, ModbusType::int64, ModbusType::uint64, ModbusType::float32,
                 ModbusType::float64, ModbusType::string})
    if (modbus_type_name(t) == name) return t;
  throw std::runtime_error("unknown type " + name);
}
ByteOrder order_of(const std::string& name) {
  for (auto o : {ByteOrder::ABCD, ByteOrder::DCBA, ByteOrder::BADC, ByteOrder::CDAB})
    if (byte_order_name(o) == name) return o;
  throw std::runtime_error("unknown order " + name);
}
bool is_float(ModbusType t) {
  return t == ModbusType::float32 || t == ModbusType::float64;
}

TEST(ModbusCodec, DecodesAndEncodesEveryTypeAndByteOrderLikePymodbus) {
  const auto vectors = pymodbus_vectors();
  ASSERT_GE(vectors.size(), 100u)
      << "pymodbus (python3-pymodbus under /usr/bin/python3) gave no vectors";
  std::set<std::pair<std::string, std::string>> covered;
  for (const auto& v : vectors) {
    SCOPED_TRACE(v.dump());
    ModbusField f;
    f.name = "x";
    f.type = type_of(v["type"]);
    f.order = order_of(v["order"]);
    std::vector<std::uint16_t> regs = v["registers"].get<std::vector<std::uint16_t>>();
    covered.insert({v["type"].get<std::string>(), v["order"].get<std::string>()});
    if (f.type == ModbusType::string) {
      f.registers = static_cast<std::uint16_t>(regs.size());
      // pymodbus ignores the byte order for text; BADC/DCBA text is swapped per register.
      if (f.order == ByteOrder::BADC || f.order == ByteOrder::DCBA)
        for (auto& r : regs) r = static_cast<std::uint16_t>((r >> 8) | (r << 8));
      auto got = decode_field(regs, f);
      ASSERT_TRUE(got.ok()) << got.error().describe();
      EXPECT_EQ(std::get<std::string>(*got), v["value"].get<std::string>());
      EXPECT_EQ(encode_string("SN-4711 ", f.registers, f.order), regs);
      continue;
    }
    ASSERT_EQ(regs.size(), f.width());
    // Decode, unscaled.
    auto got = decode_field(regs, f);
    ASSERT_TRUE(got.ok()) << got.error().describe();
    double raw = 0;
    if (is_float(f.type)) {
      raw = v["value"].get<double>();
      const double want =
          f.type == ModbusType::float32 ? static_cast<double>(static_cast<float>(raw)) : raw;
      EXPECT_EQ(std::get<double>(*got), want);
      EXPECT_EQ(encode_float(raw, f.type, f.order), regs);
    } else if (f.type == ModbusType::uint64 || f.type == ModbusType::uint16 ||
               f.type == ModbusType::uint32) {
      const auto want = v["value"].get<std::uint64_t>();
      raw = static_cast<double>(want);
      EXPECT_EQ(std::get<std::int64_t>(*got), static_cast<std::int64_t>(want));
      EXPECT_EQ(encode_integer(want, f.type, f.order), regs);
    } else {
      const auto want = v["value"].get<std::int64_t>();
      raw = static_cast<double>(want);
      EXPECT_EQ(std::get<std::int64_t>(*got), want);
      EXPECT_EQ(encode_integer(static_cast<std::uint64_t>(want), f.type, f.order), regs);
    }
    // Scaled: raw * scale + offset, as a float.
    if (f.type == ModbusType::float32) raw = static_cast<double>(static_cast<float>(raw));
    for (auto [scale, offset] :
         {std::pair{0.1, 0.0}, std::pair{10.0, -40.0}, std::pair{1.0, 273.15}}) {
      f.scale = scale;
      f.offset = offset;
      auto s = decode_field(regs, f);
      if (!std::isfinite(raw * scale + offset)) {
        EXPECT_FALSE(s.ok());
        continue;
      }
      ASSERT_TRUE(s.ok()) << s.error().describe();
      EXPECT_DOUBLE_EQ(std::get<double>(*s), raw * scale + offset);
    }
  }
  EXPECT_EQ(covered.size(), 9u * 4u);  // 8 numeric types and string, in 4 orders
}

TEST(ModbusCodec, BitsBoolsAndBadValuesAreFieldErrorsNotCrashes) {
  ModbusField f;
  f.name = "alarm";
  f.type = ModbusType::boolean;
  f.bit = 3;
  const std::vector<std::uint16_t> reg{0x0008};
  EXPECT_TRUE(std::get<bool>(*decode_field(reg, f)));
  f.bit = 2;
  EXPECT_FALSE(std::get<bool>(*decode_field(reg, f)));
  f.table = ModbusTable::coil;
  f.bit = -1;
  EXPECT_TRUE(std::get<bool>(*decode_field(std::vector<std::uint16_t>{1}, f)));

  ModbusField nan;
  nan.name = "nan";
  nan.type = ModbusType::float32;
  auto r = decode_field(encode_float(std::nan(""), ModbusType::float32, ByteOrder::ABCD), nan);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "pollers.modbus.not_finite");

  nan.type = ModbusType::uint32;
  auto shortened = decode_field(std::vector<std::uint16_t>{1}, nan);
  ASSERT_FALSE(shortened.ok());
  EXPECT_EQ(shortened.error().code, "pollers.modbus.short_field");

  ModbusField text;
  text.name = "serial";
  text.type = ModbusType::string;
  text.registers = 1;
  auto bad = decode_field(std::vector<std::uint16_t>{0xfffe}, text);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "pollers.modbus.non_utf8");

  ModbusField big;
  big.name = "energy";
  big.type = ModbusType::uint64;
  auto huge =
      decode_field(encode_integer(0xF000000000000000ull, ModbusType::uint64, ByteOrder::ABCD), big);
  EXPECT_DOUBLE_EQ(std::get<double>(*huge), static_cast<double>(0xF000000000000000ull));
}

}  // namespace
}  // namespace edgepoll::pollers
