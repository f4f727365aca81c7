#include "edgepoll/pollers/modbus/request_plan.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace edgepoll::pollers {

RequestPlan plan_requests(const ModbusDeviceConfig& config) {
  RequestPlan plan;
  const auto& fields = config.fields;
  for (auto table :
       {ModbusTable::coil, ModbusTable::discrete_input, ModbusTable::holding, ModbusTable::input}) {
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < fields.size(); ++i)
      if (fields[i].table == table) order.push_back(i);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return fields[a].address < fields[b].address;
    });
    const unsigned limit = is_bit_table(table) ? kMaxReadBits : kMaxReadRegisters;
    unsigned start = 0, end = 0;  // the read being built covers [start, end)
    for (std::size_t i : order) {
      const unsigned a = fields[i].address, e = a + fields[i].width();
      const bool merge = !plan.empty() && plan.back().table == table &&
                         !config.one_request_per_field && a <= end + config.max_gap &&
                         std::max(end, e) - start <= limit;
      if (merge) {
        end = std::max(end, e);
        plan.back().count = static_cast<std::uint16_t>(end - start);
        plan.back().fields.push_back(i);
      } else {
        start = a;
        end = e;
        plan.push_back(PlannedRead{
            table, static_cast<std::uint16_t>(a), static_cast<std::uint16_t>(e - a), {i}});
      }
    }
  }
  return plan;
}

std::vector<std::string> describe_plan(const RequestPlan& plan, const ModbusDeviceConfig& config) {
  std::vector<std::string> lines;
  for (const auto& r : plan) {
    std::vector<std::string> names;
    for (auto i : r.fields) names.push_back(config.fields[i].name);
    lines.push_back(fmt::format("FC{:02} {} {}..{} ({} {}): {}", static_cast<int>(r.table),
                                modbus_table_name(r.table), r.address, r.address + r.count - 1,
                                r.count,
                                is_bit_table(r.table) ? (r.count == 1 ? "bit" : "bits")
                                                      : (r.count == 1 ? "register" : "registers"),
                                fmt::join(names, ", ")));
  }
  return lines;
}

}  // namespace edgepoll::pollers
