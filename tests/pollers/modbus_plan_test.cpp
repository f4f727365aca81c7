// Request planning: fields merged into as few reads as the protocol allows
// (125 registers, 2,000 bits), gaps bridged up to max_gap, tables never mixed,
// one read per field on request; and the plan's description.
#include <gtest/gtest.h>

#include "edgepoll/pollers/modbus/modbus_decoder.hpp"
#include "edgepoll/pollers/modbus/request_plan.hpp"

namespace edgepoll::pollers {
namespace {

ModbusField field(std::string name, std::uint16_t address, ModbusType type = ModbusType::uint16,
                  ModbusTable table = ModbusTable::holding) {
  ModbusField f;
  f.name = std::move(name);
  f.address = address;
  f.type = type;
  f.table = table;
  if (type == ModbusType::boolean && !is_bit_table(table)) f.bit = 0;
  return f;
}

TEST(ModbusPlan, AdjacentFieldsMergeAndGapsSplitUnlessBridged) {
  ModbusDeviceConfig c;
  c.fields = {field("a", 0, ModbusType::float32), field("b", 2, ModbusType::uint32), field("c", 4),
              field("far", 10)};
  auto plan = plan_requests(c);
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan[0], (PlannedRead{ModbusTable::holding, 0, 5, {0, 1, 2}}));
  EXPECT_EQ(plan[1], (PlannedRead{ModbusTable::holding, 10, 1, {3}}));

  c.max_gap = 4;  // registers 5..9 unread: a gap of 5 is not bridged
  EXPECT_EQ(plan_requests(c).size(), 2u);
  c.max_gap = 5;
  plan = plan_requests(c);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0], (PlannedRead{ModbusTable::holding, 0, 11, {0, 1, 2, 3}}));
}

TEST(ModbusPlan, UnorderedAndOverlappingFieldsAndTablesApart) {
  ModbusDeviceConfig c;
  c.fields = {field("hi", 3), field("lo", 0, ModbusType::uint64),
              field("bit", 1, ModbusType::boolean),
              field("in", 3, ModbusType::int16, ModbusTable::input),
              field("coil", 7, ModbusType::boolean, ModbusTable::coil)};
  const auto plan = plan_requests(c);
  ASSERT_EQ(plan.size(), 3u);
  EXPECT_EQ(plan[0], (PlannedRead{ModbusTable::coil, 7, 1, {4}}));
  EXPECT_EQ(plan[1], (PlannedRead{ModbusTable::holding, 0, 4, {1, 2, 0}}));
  EXPECT_EQ(plan[2], (PlannedRead{ModbusTable::input, 3, 1, {3}}));
}

TEST(ModbusPlan, ReadsNeverExceedTheProtocolLimits) {
  ModbusDeviceConfig c;
  for (std::uint16_t a = 0; a < 300; ++a) c.fields.push_back(field("r" + std::to_string(a), a));
  for (std::uint16_t a = 0; a < 4500; a += 1)
    c.fields.push_back(
        field("b" + std::to_string(a), a, ModbusType::boolean, ModbusTable::discrete_input));
  c.fields.push_back(field("s", 400, ModbusType::string));
  c.fields.back().registers = 125;
  const auto plan = plan_requests(c);
  unsigned bits = 0, registers = 0, bit_reads = 0, register_reads = 0;
  for (const auto& r : plan) {
    if (is_bit_table(r.table)) {
      EXPECT_LE(r.count, kMaxReadBits);
      bits += r.count;
      ++bit_reads;
    } else {
      EXPECT_LE(r.count, kMaxReadRegisters);
      registers += r.count;
      ++register_reads;
    }
  }
  EXPECT_EQ(bits, 4500u);
  EXPECT_EQ(bit_reads, 3u);  // 2000 + 2000 + 500
  EXPECT_EQ(registers, 300u + 125u);
  EXPECT_EQ(register_reads, 4u);  // 125 + 125 + 50, then the 125-register string alone
}

TEST(ModbusPlan, OneRequestPerFieldAndDescription) {
  ModbusDeviceConfig c;
  c.fields = {field("voltage", 0, ModbusType::float32), field("current", 2, ModbusType::float32)};
  EXPECT_EQ(plan_requests(c).size(), 1u);
  EXPECT_EQ(describe_plan(plan_requests(c), c),
            std::vector<std::string>{"FC03 holding 0..3 (4 registers): voltage, current"});
  c.one_request_per_field = true;
  const auto plan = plan_requests(c);
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan[1], (PlannedRead{ModbusTable::holding, 2, 2, {1}}));
}

}  // namespace
}  // namespace edgepoll::pollers

namespace edgepoll::pollers {
namespace {

// The decoder follows the plan: each field from its read's block, a failed
// read's fields as field errors carrying that read's error, readings in config order.
TEST(ModbusDecoderPlan, FieldsComeFromTheirBlocksAndAFailedReadFailsOnlyItsFields) {
  ModbusDeviceConfig c;
  c.fields = {field("far", 50), field("near", 1, ModbusType::int16),
              field("wide", 2, ModbusType::uint32)};
  c.fields[1].scale = 0.5;
  const ModbusDecoder decoder("meter", c);
  ASSERT_EQ(decoder.plan().size(), 2u);  // 1..3 and 50
  ModbusResponse ok{{{0xfffe, 0x0001, 0x0002}, {42}}, {std::nullopt, std::nullopt}, {}};
  auto all = decoder.decode(ok);
  ASSERT_TRUE(all.ok()) << all.error().describe();
  ASSERT_EQ(all->readings.size(), 3u);
  EXPECT_EQ(all->readings[0].metric, "far");
  EXPECT_EQ(std::get<std::int64_t>(all->readings[0].value), 42);
  EXPECT_DOUBLE_EQ(std::get<double>(all->readings[1].value), -1.0);
  EXPECT_EQ(std::get<std::int64_t>(all->readings[2].value), 0x00010002);

  ModbusResponse half{
      {{0xfffe, 0x0001, 0x0002}, {}},
      {std::nullopt, make_error("pollers.modbus.illegal_data_address", "exception 2")},
      {}};
  auto partial = decoder.decode(half);
  ASSERT_TRUE(partial.ok());
  EXPECT_EQ(partial->readings.size(), 2u);
  ASSERT_EQ(partial->field_errors.size(), 1u);
  EXPECT_EQ(partial->field_errors[0].code, "pollers.modbus.illegal_data_address");
  EXPECT_NE(partial->field_errors[0].message.find("field \"far\""), std::string::npos);

  ModbusResponse none{
      {{}, {}},
      {make_error("pollers.modbus.timeout", "t"), make_error("pollers.modbus.timeout", "t")},
      {}};
  auto failed = decoder.decode(none);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, "pollers.decode.no_readings");
}

}  // namespace
}  // namespace edgepoll::pollers
