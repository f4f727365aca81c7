#include "edgepoll/pollers/snmp/snmp_decoder.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace edgepoll::pollers {

SnmpDecoder::SnmpDecoder(std::string device_id, SnmpDeviceConfig config)
    : device_id_(std::move(device_id)), config_(std::move(config)) {}

bool SnmpDecoder::convert(const SnmpField& field, const std::string& metric, const std::string& key,
                          const SnmpValue& value, supervision::TimePoint at, DecodeOutcome& out,
                          std::vector<std::pair<std::string, std::string>> tags) {
  const auto fail = [&](Error e) {
    e.message = fmt::format("device \"{}\" field \"{}\" ({}): {}", device_id_, metric, oid_text(field.oid), e.message);
    out.field_errors.push_back(std::move(e));
    return true;
  };
  if (!field.rate) {
    auto v = convert_value(value, field.format);
    if (!v) return fail(v.take_error());
    out.readings.push_back(Reading{metric, std::move(v.value()), field.unit, std::move(tags)});
    return true;
  }
  const auto count = counter_value(value);
  if (!count) {
    if (auto v = convert_value(value, field.format); !v) return fail(v.take_error());
    return fail(make_error("pollers.snmp.not_a_counter",
                           fmt::format("rate = true on a {} (only Counter32 and Counter64 have rates)",
                                       snmp_type_name(value.type)),
                           false));
  }
  auto [it, first] = samples_.try_emplace(key, Sample{*count, at});
  if (first) return false;
  const auto before = it->second;
  it->second = Sample{*count, at};
  const double seconds = std::chrono::duration<double>(at - before.at).count();
  if (seconds <= 0) return false;
  const double rate =
      counter_rate(before.count, *count, seconds, value.type == SnmpType::counter32 ? 32 : 64);
  out.readings.push_back(Reading{metric, rate, field.unit, std::move(tags)});
  return true;
}

Result<DecodeOutcome> SnmpDecoder::decode(const SnmpResponse& r) {
  if (r.scalars.size() != config_.metrics.size() || r.failed.size() != config_.metrics.size() ||
      r.tables.size() != config_.tables.size())
    throw std::logic_error("snmp response for device " + device_id_ + " does not follow its config");
  DecodeOutcome out;
  bool waiting_for_rate = false;
  for (std::size_t i = 0; i < config_.metrics.size(); ++i) {
    const auto& f = config_.metrics[i];
    if (const auto& e = r.failed[i]) {
      Error copy = *e;
      copy.message = fmt::format("device \"{}\" field {}", device_id_, e->message);
      out.field_errors.push_back(std::move(copy));
      continue;
    }
    if (!r.scalars[i]) continue;
    waiting_for_rate |= !convert(f, f.name, f.name, *r.scalars[i], r.taken_at, out, {});
  }
  for (std::size_t t = 0; t < config_.tables.size(); ++t) {
    const auto& table = config_.tables[t];
    const auto& got = r.tables[t];
    if (got.error) {
      Error copy = *got.error;
      copy.message = fmt::format("device \"{}\" {}", device_id_, got.error->message);
      out.field_errors.push_back(std::move(copy));
    }
    for (const auto& [index, values] : got.rows) {
      const std::string row = oid_text(index);
      std::vector<std::pair<std::string, std::string>> tags{{table.index_tag, row}};
      for (std::size_t k = 0; k < table.tags.size(); ++k) {
        const auto& v = values[table.columns.size() + k];
        if (!v) continue;
        auto text = convert_value(*v, table.tags[k].format);
        if (!text) continue;  // a tag the row lacks: the row is still told by its index
        std::visit([&](const auto& x) {
          if constexpr (std::is_same_v<std::decay_t<decltype(x)>, std::string>) tags.emplace_back(table.tags[k].name, x);
          else tags.emplace_back(table.tags[k].name, fmt::format("{}", x));
        }, text.value());
      }
      for (std::size_t c = 0; c < table.columns.size(); ++c) {
        if (!values[c]) continue;  // sparse tables are normal: no value, no reading
        const auto& col = table.columns[c];
        const std::string metric = table.name + "." + col.name;
        waiting_for_rate |= !convert(col, metric, metric + "/" + row, *values[c], r.taken_at, out, tags);
      }
    }
  }
  if (out.readings.empty() && !waiting_for_rate) {
    if (out.field_errors.empty())
      return make_error("pollers.decode.no_readings",
                        fmt::format("device \"{}\": the agent gave no value (empty tables)", device_id_), true);
    return make_error("pollers.decode.no_readings",
                      fmt::format("device \"{}\": no field decoded; first problem: {}", device_id_,
                                  out.field_errors.front().describe()),
                      out.field_errors.front().retryable);
  }
  return out;
}

}  // namespace edgepoll::pollers
