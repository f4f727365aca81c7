#include "edgepoll/pollers/modbus/modbus_config.hpp"

#include <array>
#include <optional>
#include <utility>

#include "../config_section.hpp"

namespace edgepoll::pollers {
namespace {

using detail::lookup;
using detail::name_of;
using detail::Section;

constexpr std::array<std::pair<std::string_view, ModbusTable>, 4> kTables{{
    {"coil", ModbusTable::coil},
    {"discrete_input", ModbusTable::discrete_input},
    {"holding", ModbusTable::holding},
    {"input", ModbusTable::input},
}};
constexpr std::array<std::pair<std::string_view, ModbusType>, 10> kTypes{{
    {"bool", ModbusType::boolean},
    {"int16", ModbusType::int16},
    {"uint16", ModbusType::uint16},
    {"int32", ModbusType::int32},
    {"uint32", ModbusType::uint32},
    {"int64", ModbusType::int64},
    {"uint64", ModbusType::uint64},
    {"float32", ModbusType::float32},
    {"float64", ModbusType::float64},
    {"string", ModbusType::string},
}};
constexpr std::array<std::pair<std::string_view, ByteOrder>, 4> kOrders{{
    {"ABCD", ByteOrder::ABCD},
    {"DCBA", ByteOrder::DCBA},
    {"BADC", ByteOrder::BADC},
    {"CDAB", ByteOrder::CDAB},
}};

Status parse_field(const Section& s, bool one_based, ModbusField& f) {
  EP_TRY(s.only({"name", "table", "address", "type", "order", "bit", "registers", "scale", "offset",
                 "unit"}));
  EP_TRY(s.string("name", f.name, true));
  if (f.name.empty()) return s.wrong("name", "a non-empty metric name");
  std::string table = "holding", type = "uint16", order = "ABCD";
  EP_TRY(s.string("table", table));
  EP_TRY(s.string("type", type));
  EP_TRY(s.string("order", order));
  auto t = lookup(kTables, table);
  if (!t) return s.wrong("table", "one of coil, discrete_input, holding, input");
  auto ty = lookup(kTypes, type);
  if (!ty)
    return s.wrong(
        "type",
        "one of bool, int16, uint16, int32, uint32, int64, uint64, float32, float64, string");
  auto o = lookup(kOrders, order);
  if (!o) return s.wrong("order", "one of ABCD, DCBA, BADC, CDAB");
  f.table = *t;
  f.type = *ty;
  f.order = *o;
  unsigned address = 0;
  EP_TRY(s.count("address", address, one_based ? 1 : 0, one_based ? 65536 : 65535, true));
  f.address = static_cast<std::uint16_t>(one_based ? address - 1 : address);
  if (is_bit_table(f.table) && f.type != ModbusType::boolean)
    return s.wrong("type", "\"bool\" in a coil or discrete_input table (they hold single bits)");
  if (s.has("bit")) {
    if (f.type != ModbusType::boolean || is_bit_table(f.table))
      return s.wrong(
          "bit", "absent: \"bit\" picks a bit of a holding or input register for type = \"bool\"");
    EP_TRY(s.count("bit", f.bit, 0, 15));
  } else if (f.type == ModbusType::boolean && !is_bit_table(f.table)) {
    f.bit = 0;  // a register read as a bool: its least significant bit
  }
  if (f.type == ModbusType::string) {
    EP_TRY(s.count("registers", f.registers, 1, 125, true));
  } else if (s.has("registers")) {
    return s.wrong("registers", "absent: only a string has a register count");
  }
  EP_TRY(s.number("scale", f.scale));
  EP_TRY(s.number("offset", f.offset));
  if (f.scaled() && (f.type == ModbusType::boolean || f.type == ModbusType::string))
    return s.wrong(f.scale != 1.0 ? "scale" : "offset", "absent for a bool or string field");
  EP_TRY(s.string("unit", f.unit));
  if (static_cast<unsigned>(f.address) + f.width() > 65536u)
    return s.wrong("address", "a field that ends inside the 65,536 addresses of its table");
  return ok_status();
}

}  // namespace

std::string_view modbus_table_name(ModbusTable table) {
  return name_of(kTables, table);
}
std::string_view modbus_type_name(ModbusType type) {
  return name_of(kTypes, type);
}
std::string_view byte_order_name(ByteOrder order) {
  return name_of(kOrders, order);
}

std::uint16_t ModbusField::width() const {
  switch (type) {
    case ModbusType::boolean:
    case ModbusType::int16:
    case ModbusType::uint16:
      return 1;
    case ModbusType::int32:
    case ModbusType::uint32:
    case ModbusType::float32:
      return 2;
    case ModbusType::int64:
    case ModbusType::uint64:
    case ModbusType::float64:
      return 4;
    case ModbusType::string:
      return registers;
  }
  return 1;
}

Result<ModbusDeviceConfig> ModbusDeviceConfig::parse(const toml::table& table,
                                                     const std::string& where) {
  ModbusDeviceConfig c;
  Section s(table, where + " modbus");
  EP_TRY(s.only({"gateway", "unit_id", "addressing", "max_gap", "one_request_per_field",
                 "max_outstanding", "metrics"}));
  EP_TRY(s.host_port("gateway", c.host, c.port, "10.0.0.20:502"));
  unsigned unit = 1;
  EP_TRY(s.count("unit_id", unit, 0, 255, true));
  c.unit_id = static_cast<std::uint8_t>(unit);
  // Manuals number registers from 0 or from 1 (and "40001" styles): no default,
  // a silent off-by-one reads the neighbour register.
  std::string addressing;
  EP_TRY(s.string("addressing", addressing, true));
  if (addressing != "zero_based" && addressing != "one_based")
    return s.wrong("addressing", "\"zero_based\" or \"one_based\"");
  c.one_based = addressing == "one_based";
  EP_TRY(s.count("max_gap", c.max_gap, 0, 124));
  EP_TRY(s.boolean("one_request_per_field", c.one_request_per_field));
  EP_TRY(s.count("max_outstanding", c.max_outstanding, 1, 64));

  const auto* node = table.get("metrics");
  const auto* arr = node ? node->as_array() : nullptr;
  if (arr == nullptr || arr->empty())
    return s.wrong("metrics", "a non-empty array of tables ([[device.modbus.metrics]])");
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const auto* t = arr->get(i)->as_table();
    const std::string at = fmt::format("{} modbus metrics[{}]", where, i);
    if (t == nullptr)
      return make_error("pollers.config.bad_value", fmt::format("{} must be a table", at));
    ModbusField f;
    EP_TRY(parse_field(Section(*t, at), c.one_based, f));
    c.fields.push_back(std::move(f));
  }
  return c;
}

}  // namespace edgepoll::pollers
