#include "edgepoll/pollers/modbus/register_codec.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

namespace edgepoll::pollers {
namespace {

bool words_reversed(ByteOrder o) {
  return o == ByteOrder::CDAB || o == ByteOrder::DCBA;
}
bool bytes_swapped(ByteOrder o) {
  return o == ByteOrder::BADC || o == ByteOrder::DCBA;
}
std::uint16_t swap16(std::uint16_t w) {
  return static_cast<std::uint16_t>((w >> 8) | (w << 8));
}

// The value's bytes most significant first (A B C D ...) as one integer.
std::uint64_t big_endian_value(std::span<const std::uint16_t> words, ByteOrder order) {
  std::uint64_t v = 0;
  const std::size_t n = words.size();
  for (std::size_t i = 0; i < n; ++i) {
    std::uint16_t w = words[words_reversed(order) ? n - 1 - i : i];
    if (bytes_swapped(order)) w = swap16(w);
    v = (v << 16) | w;
  }
  return v;
}

std::vector<std::uint16_t> to_words(std::uint64_t v, std::size_t n, ByteOrder order) {
  std::vector<std::uint16_t> words(n);
  for (std::size_t i = 0; i < n; ++i) {
    auto w = static_cast<std::uint16_t>(v >> (16 * (n - 1 - i)));
    if (bytes_swapped(order)) w = swap16(w);
    words[words_reversed(order) ? n - 1 - i : i] = w;
  }
  return words;
}

std::int64_t sign_extend(std::uint64_t v, unsigned bits) {
  if (bits == 64) return static_cast<std::int64_t>(v);
  const std::uint64_t sign = std::uint64_t{1} << (bits - 1);
  return static_cast<std::int64_t>((v ^ sign) - sign);
}

Error field_error(const ModbusField& f, std::string code, std::string what) {
  return make_error("pollers.modbus." + code,
                    fmt::format("field \"{}\" ({} {} {}): {}", f.name, modbus_table_name(f.table),
                                f.address, modbus_type_name(f.type), what));
}

Result<ReadingValue> scaled(const ModbusField& f, double raw) {
  const double v = raw * f.scale + f.offset;
  if (!std::isfinite(v))
    return field_error(f, "not_finite", fmt::format("value {} is not a finite number", v));
  return ReadingValue{v};
}

}  // namespace

Result<ReadingValue> decode_field(std::span<const std::uint16_t> words, const ModbusField& f) {
  if (words.size() < f.width())
    return field_error(f, "short_field",
                       fmt::format("{} registers for a field of {}", words.size(), f.width()));
  words = words.first(f.width());
  switch (f.type) {
    case ModbusType::boolean:
      return ReadingValue{is_bit_table(f.table) ? words[0] != 0 : ((words[0] >> f.bit) & 1u) != 0};
    case ModbusType::string: {
      std::string text;
      text.reserve(words.size() * 2);
      for (auto w : words) {
        if (bytes_swapped(f.order)) w = swap16(w);
        text.push_back(static_cast<char>(w >> 8));
        text.push_back(static_cast<char>(w & 0xff));
      }
      // Devices pad strings with NULs or spaces.
      while (!text.empty() && (text.back() == '\0' || text.back() == ' ')) text.pop_back();
      if (!is_valid_utf8(text)) return field_error(f, "non_utf8", "the string is not UTF-8");
      return ReadingValue{std::move(text)};
    }
    case ModbusType::float32: {
      const auto bits = static_cast<std::uint32_t>(big_endian_value(words, f.order));
      return scaled(f, static_cast<double>(std::bit_cast<float>(bits)));
    }
    case ModbusType::float64:
      return scaled(f, std::bit_cast<double>(big_endian_value(words, f.order)));
    default:
      break;
  }
  const std::uint64_t raw = big_endian_value(words, f.order);
  const bool is_signed =
      f.type == ModbusType::int16 || f.type == ModbusType::int32 || f.type == ModbusType::int64;
  if (is_signed) {
    const std::int64_t v = sign_extend(raw, 16u * f.width());
    if (f.scaled()) return scaled(f, static_cast<double>(v));
    return ReadingValue{v};
  }
  if (f.scaled()) return scaled(f, static_cast<double>(raw));
  // A reading's integers are int64: the few uint64 values above 2^63 read as a
  // float (nearest double) rather than as a negative number.
  if (raw > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    return ReadingValue{static_cast<double>(raw)};
  return ReadingValue{static_cast<std::int64_t>(raw)};
}

std::vector<std::uint16_t> encode_integer(std::uint64_t raw, ModbusType type, ByteOrder order) {
  ModbusField f;
  f.type = type;
  const std::size_t n = f.width();
  if (n < 4) raw &= (std::uint64_t{1} << (16 * n)) - 1;
  return to_words(raw, n, order);
}

std::vector<std::uint16_t> encode_float(double value, ModbusType type, ByteOrder order) {
  if (type == ModbusType::float32)
    return to_words(std::bit_cast<std::uint32_t>(static_cast<float>(value)), 2, order);
  return to_words(std::bit_cast<std::uint64_t>(value), 4, order);
}

std::vector<std::uint16_t> encode_string(std::string_view text, std::uint16_t registers,
                                         ByteOrder order) {
  std::vector<std::uint16_t> words(registers, 0);
  for (std::size_t i = 0; i < std::min<std::size_t>(text.size(), registers * 2u); ++i) {
    const auto byte = static_cast<std::uint8_t>(text[i]);
    words[i / 2] |= static_cast<std::uint16_t>(i % 2 == 0 ? byte << 8 : byte);
  }
  if (bytes_swapped(order))
    for (auto& w : words) w = swap16(w);
  return words;
}

}  // namespace edgepoll::pollers
