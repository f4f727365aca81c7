// The decoder on every kind of bad body a device can send: always an Error
// value naming the device (and the pointer for field errors), never a throw.
#include <gtest/gtest.h>

#include <random>

#include "edgepoll/pollers/decoder.hpp"

namespace edgepoll::pollers {
namespace {

const std::vector<MetricMapping> kMapping = {
    {"/temp", "boiler.temp", MetricType::number, "degC"},
    {"/count", "boiler.count", MetricType::integer, ""},
    {"/on", "boiler.on", MetricType::boolean, ""},
    {"/mode", "boiler.mode", MetricType::text, ""},
    {"/sensors/1/v", "boiler.second", MetricType::number, "V"}};

Decoder decoder() { return Decoder("boiler-1", kMapping, DecoderLimits{4096, 16}); }

const char* kGood =
    R"({"temp": 21.5, "count": 42, "on": true, "mode": "eco", "sensors": [{"v": 1}, {"v": 2.5}]})";

TEST(Decoder, MapsEveryConfiguredPointerWithItsTypeAndUnit) {
  auto out = decoder().decode(kGood);
  ASSERT_TRUE(out.ok()) << out.error().describe();
  ASSERT_EQ(out->readings.size(), 5u);
  EXPECT_TRUE(out->field_errors.empty());
  EXPECT_EQ(out->readings[0].metric, "boiler.temp");
  EXPECT_EQ(std::get<double>(out->readings[0].value), 21.5);
  EXPECT_EQ(out->readings[0].unit, "degC");
  EXPECT_EQ(std::get<std::int64_t>(out->readings[1].value), 42);
  EXPECT_EQ(std::get<bool>(out->readings[2].value), true);
  EXPECT_EQ(std::get<std::string>(out->readings[3].value), "eco");
  EXPECT_EQ(std::get<double>(out->readings[4].value), 2.5);
}

TEST(Decoder, GarbageIsAnErrorNamingTheDevice) {
  auto out = decoder().decode("<html>oops</html>");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, "pollers.decode.garbage");
  EXPECT_NE(out.error().message.find("boiler-1"), std::string::npos);
}

TEST(Decoder, TruncatedBodyIsRecognisedAsTruncated) {
  const std::string good = kGood;
  auto out = decoder().decode(good.substr(0, good.size() / 2));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, "pollers.decode.truncated");
}

TEST(Decoder, EmptyBodyIsTruncated) {
  auto out = decoder().decode("");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, "pollers.decode.truncated");
}

TEST(Decoder, NonUtf8IsRejectedBeforeParsing) {
  auto out = decoder().decode("{\"temp\": 1, \"mode\": \"\xff\xfe\"}");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, "pollers.decode.non_utf8");
}

TEST(Decoder, HugeBodyIsRejectedUnparsed) {
  std::string big = R"({"temp": 1, "pad": ")" + std::string(8000, 'x') + "\"}";
  auto out = decoder().decode(big);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, "pollers.decode.too_large");
  EXPECT_FALSE(out.error().retryable);
}

TEST(Decoder, DeepNestingIsRejected) {
  const std::string deep = std::string(1000, '[') + std::string(1000, ']');
  auto out = Decoder("d", kMapping, DecoderLimits{1 << 20, 16}).decode(deep);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, "pollers.decode.too_deep");
}

TEST(Decoder, WrongTypeAndMissingFieldsAreFieldErrorsNamingThePointer) {
  auto out = decoder().decode(R"({"temp": "hot", "count": 1.5, "on": true, "mode": "eco"})");
  ASSERT_TRUE(out.ok()) << out.error().describe();
  EXPECT_EQ(out->readings.size(), 2u);  // on, mode
  ASSERT_EQ(out->field_errors.size(), 3u);
  EXPECT_EQ(out->field_errors[0].code, "pollers.decode.wrong_type");
  EXPECT_NE(out->field_errors[0].message.find("\"/temp\""), std::string::npos);
  EXPECT_NE(out->field_errors[0].message.find("boiler-1"), std::string::npos);
  EXPECT_EQ(out->field_errors[1].code, "pollers.decode.wrong_type");  // 1.5 is not an integer
  EXPECT_EQ(out->field_errors[2].code, "pollers.decode.missing_field");
  EXPECT_NE(out->field_errors[2].message.find("/sensors/1/v"), std::string::npos);
}

TEST(Decoder, NoMappedFieldAtAllIsABodyError) {
  auto out = decoder().decode(R"({"something": "else"})");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, "pollers.decode.no_readings");
  EXPECT_NE(out.error().message.find("/temp"), std::string::npos);
}

TEST(Decoder, PointerSegmentsResolveInObjectsToo) {
  auto out = decoder().decode(R"({"temp": 1, "sensors": {"1": {"v": 3}}, "count": 99999999999999999999})");
  ASSERT_TRUE(out.ok()) << out.error().describe();
  // "/sensors/1/v" resolves in an object with key "1"; the unsigned overflow is a field error.
  bool second = false;
  for (auto& r : out->readings) second = second || r.metric == "boiler.second";
  EXPECT_TRUE(second);
}

TEST(Decoder, ArbitraryBytesNeverThrow) {
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string body(rng() % 64, '\0');
    for (auto& c : body) c = static_cast<char>("{}[]\":,0123456789.eE+-tfnulrasx \xc3\xa9\xff"[rng() % 36]);
    EXPECT_NO_THROW((void)decoder().decode(body));
  }
}

TEST(Utf8, AcceptsWellFormedAndRejectsMalformedSequences) {
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(is_valid_utf8("\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xe2\x82"));          // cut short
  EXPECT_FALSE(is_valid_utf8("\x80"));              // lone continuation
}

}  // namespace
}  // namespace edgepoll::pollers
