// encode_readings writes the outbox payload by hand; these tests hold it to the
// bytes nlohmann's dump wrote before (the reference below), on chosen edge
// cases and on random readings.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "edgepoll/appliance/reading_pipeline.hpp"

using namespace edgepoll;
using namespace edgepoll::appliance;
using namespace std::chrono_literals;

namespace {

// The encoder as it was: an nlohmann::json built and dumped.
std::string reference(const pollers::DeviceReadings& r) {
  nlohmann::json values = nlohmann::json::array();
  for (const auto& reading : r.readings) {
    nlohmann::json v = {{"metric", reading.metric}};
    std::visit([&v](const auto& x) { v["value"] = x; }, reading.value);
    if (!reading.unit.empty()) v["unit"] = reading.unit;
    for (const auto& [tag, value] : reading.tags) v["tags"][tag] = value;
    values.push_back(std::move(v));
  }
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(r.taken_at.time_since_epoch()).count();
  return nlohmann::json{{"device", r.device_id}, {"ts", ms}, {"readings", std::move(values)}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

pollers::DeviceReadings one(pollers::ReadingValue value, std::string metric = "m",
                            std::string unit = "") {
  return {"d1",
          std::chrono::system_clock::time_point(1700000000123ms),
          {{std::move(metric), std::move(value), std::move(unit)}}};
}

}  // namespace

TEST(ReadingEncoding, NumbersAreWrittenAsNlohmannWroteThem) {
  const double cases[] = {21.5,
                          21.0,
                          -0.0,
                          0.0,
                          1e15,
                          1e16,
                          1e-4,
                          1e-5,
                          123456.789,
                          -3.25,
                          0.1,
                          5e-324,
                          std::numeric_limits<double>::max(),
                          std::numeric_limits<double>::lowest(),
                          std::nan(""),
                          std::numeric_limits<double>::infinity(),
                          -std::numeric_limits<double>::infinity()};
  for (const double d : cases) EXPECT_EQ(encode_readings(one(d)), reference(one(d))) << d;
  for (const std::int64_t i :
       {std::int64_t{0}, std::int64_t{-1}, std::numeric_limits<std::int64_t>::min(),
        std::numeric_limits<std::int64_t>::max()})
    EXPECT_EQ(encode_readings(one(i)), reference(one(i))) << i;
  EXPECT_EQ(encode_readings(one(true)), reference(one(true)));
  EXPECT_EQ(encode_readings(one(false)), reference(one(false)));
  EXPECT_EQ(encode_readings(one(21.0)),
            R"({"device":"d1","readings":[{"metric":"m","value":21.0}],"ts":1700000000123})");
}

TEST(ReadingEncoding, StringsAreEscapedAsNlohmannEscapedThem) {
  const std::string cases[] = {"plain",
                               "quote\" back\\slash /",
                               std::string("nul\0byte", 8),
                               "\b\f\n\r\t\x01\x1f\x7f",
                               "caf\xc3\xa9 \xe2\x82\xac",
                               "bad \xff\xfe utf8",
                               "cut \xe2\x82",
                               ""};
  for (const auto& s : cases) {
    EXPECT_EQ(encode_readings(one(s)), reference(one(s)));
    EXPECT_EQ(encode_readings(one(1.0, s, s)), reference(one(1.0, s, s)));
    pollers::DeviceReadings named{s, std::chrono::system_clock::time_point(1ms), {}};
    EXPECT_EQ(encode_readings(named), reference(named));
  }
}

TEST(ReadingEncoding, TagsAreSortedByNameAndARepeatedNameKeepsItsLastValue) {
  pollers::DeviceReadings r = one(std::int64_t{7}, "ifInOctets", "octets");
  r.readings[0].tags = {{"ifIndex", "3"}, {"ifDescr", "eth0"}, {"ifIndex", "4"}, {"a", "x"}};
  EXPECT_EQ(encode_readings(r), reference(r));
  EXPECT_NE(encode_readings(r).find(R"("tags":{"a":"x","ifDescr":"eth0","ifIndex":"4"})"),
            std::string::npos);
}

TEST(ReadingEncoding, NoReadingsIsAnEmptyList) {
  pollers::DeviceReadings r{"d1", std::chrono::system_clock::time_point(5ms), {}};
  EXPECT_EQ(encode_readings(r), R"({"device":"d1","readings":[],"ts":5})");
  EXPECT_EQ(encode_readings(r), reference(r));
}

RC_GTEST_PROP(ReadingEncoding, RandomReadingsEncodeAsNlohmannEncodedThem, ()) {
  pollers::DeviceReadings r;
  r.device_id = *rc::gen::arbitrary<std::string>();
  // Milliseconds from 1970 to 2100: a system_clock time point counts
  // nanoseconds, and a random int64 of milliseconds overflows it.
  r.taken_at = std::chrono::system_clock::time_point(
      std::chrono::milliseconds(*rc::gen::inRange<std::int64_t>(0, 4'102'444'800'000)));
  const auto n = *rc::gen::inRange<std::size_t>(0, 5);
  for (std::size_t i = 0; i < n; ++i) {
    pollers::Reading reading;
    reading.metric = *rc::gen::arbitrary<std::string>();
    reading.unit = *rc::gen::arbitrary<std::string>();
    switch (*rc::gen::inRange(0, 5)) {
      case 0:
        reading.value = *rc::gen::arbitrary<double>();
        break;
      case 1: {  // doubles from raw bits: every exponent, subnormals, NaNs
        const auto bits = *rc::gen::arbitrary<std::uint64_t>();
        double d;
        std::memcpy(&d, &bits, sizeof d);
        reading.value = d;
        break;
      }
      case 2:
        reading.value = *rc::gen::arbitrary<std::int64_t>();
        break;
      case 3:
        reading.value = *rc::gen::arbitrary<bool>();
        break;
      default:
        reading.value = *rc::gen::arbitrary<std::string>();
        break;
    }
    const auto tags = *rc::gen::inRange<std::size_t>(0, 4);
    for (std::size_t t = 0; t < tags; ++t)
      reading.tags.emplace_back(*rc::gen::element<std::string>("a", "b", "ifIndex", "\xc3\xa9"),
                                *rc::gen::arbitrary<std::string>());
    r.readings.push_back(std::move(reading));
  }
  RC_ASSERT(encode_readings(r) == reference(r));
}
