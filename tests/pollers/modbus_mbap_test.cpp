// Framing: every exception code becomes an error value that names it, and
// every malformed or mismatched answer a named error, never a crash.
#include <gtest/gtest.h>

#include "edgepoll/pollers/modbus/mbap.hpp"

namespace edgepoll::pollers {
namespace {

const mbap::ReadRequest kRead{0x0102, 7, ModbusTable::holding, 100, 2};

Result<std::vector<std::uint16_t>> answer(const std::vector<std::uint8_t>& frame,
                                          const mbap::ReadRequest& r = kRead) {
  const auto h = mbap::parse_header(
      std::span<const std::uint8_t, mbap::kHeaderSize>(frame.data(), mbap::kHeaderSize));
  return mbap::decode_read_response(
      h, std::span<const std::uint8_t>(frame).subspan(mbap::kHeaderSize), r, "test");
}

TEST(ModbusFraming, RequestAndResponseRoundTrip) {
  const auto req = mbap::encode_read(kRead);
  EXPECT_EQ(std::vector<std::uint8_t>(req.begin(), req.end()),
            (std::vector<std::uint8_t>{0x01, 0x02, 0, 0, 0, 6, 7, 3, 0, 100, 0, 2}));
  const auto parsed = mbap::parse_read_pdu(std::span<const std::uint8_t>(req).subspan(7));
  EXPECT_EQ(parsed.function, 3);
  EXPECT_EQ(parsed.address, 100);
  EXPECT_EQ(parsed.count, 2);
  EXPECT_EQ(parsed.exception, 0);
  const std::vector<std::uint16_t> regs{0x1234, 0xabcd};
  auto got = answer(mbap::encode_read_response(0x0102, 7, 3, regs));
  ASSERT_TRUE(got.ok()) << got.error().describe();
  EXPECT_EQ(*got, regs);

  const mbap::ReadRequest coils{9, 1, ModbusTable::coil, 0, 10};
  const std::vector<std::uint16_t> bits{1, 0, 1, 1, 0, 0, 0, 0, 1, 1};
  auto b = answer(mbap::encode_read_response(9, 1, 1, bits), coils);
  ASSERT_TRUE(b.ok()) << b.error().describe();
  EXPECT_EQ(*b, bits);
}

TEST(ModbusFraming, EveryExceptionCodeIsANamedError) {
  const std::vector<std::pair<std::uint8_t, std::string>> codes{
      {1, "illegal_function"},
      {2, "illegal_data_address"},
      {3, "illegal_data_value"},
      {4, "server_device_failure"},
      {5, "acknowledge"},
      {6, "server_device_busy"},
      {8, "memory_parity_error"},
      {10, "gateway_path_unavailable"},
      {11, "gateway_target_device_failed_to_respond"},
      {99, "exception_99"}};
  for (const auto& [code, name] : codes) {
    auto r = answer(mbap::encode_exception(0x0102, 7, 3, code));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "pollers.modbus." + name);
    EXPECT_NE(r.error().message.find("exception " + std::to_string(code)), std::string::npos);
  }
  EXPECT_NE(answer(mbap::encode_exception(0x0102, 7, 3, 11))
                .error()
                .message.find("gateway target device failed to respond"),
            std::string::npos);
  EXPECT_FALSE(answer(mbap::encode_exception(0x0102, 7, 3, 2)).error().retryable);
  EXPECT_TRUE(answer(mbap::encode_exception(0x0102, 7, 3, 6)).error().retryable);
}

TEST(ModbusFraming, MalformedAnswersAreNamedErrors) {
  const std::vector<std::uint16_t> regs{1, 2};
  auto frame = [&] { return mbap::encode_read_response(0x0102, 7, 3, regs); };
  auto code_of = [&](std::vector<std::uint8_t> f, const mbap::ReadRequest& r = kRead) {
    auto got = answer(f, r);
    return got.ok() ? std::string("ok") : got.error().code;
  };
  auto other_unit = frame();
  other_unit[6] = 8;
  EXPECT_EQ(code_of(other_unit), "pollers.modbus.wrong_unit_id");
  auto other_fc = frame();
  other_fc[7] = 4;
  EXPECT_EQ(code_of(other_fc), "pollers.modbus.wrong_function");
  auto bad_count = frame();
  bad_count[8] = 3;  // byte count disagrees with the PDU
  EXPECT_EQ(code_of(bad_count), "pollers.modbus.bad_length");
  mbap::ReadRequest three = kRead;
  three.count = 3;  // the answer carries two registers
  EXPECT_EQ(code_of(frame(), three), "pollers.modbus.wrong_byte_count");
  auto long_exception = mbap::encode_exception(0x0102, 7, 3, 2);
  long_exception.push_back(0);
  long_exception[5] = 4;
  EXPECT_EQ(code_of(long_exception), "pollers.modbus.bad_length");

  EXPECT_EQ(mbap::check_header({1, 0xbeef, 6, 1}, "g").error().code,
            "pollers.modbus.bad_protocol_id");
  EXPECT_EQ(mbap::check_header({1, 0, 2, 1}, "g").error().code, "pollers.modbus.short_frame");
  EXPECT_EQ(mbap::check_header({1, 0, 1000, 1}, "g").error().code,
            "pollers.modbus.oversized_length");
  EXPECT_TRUE(mbap::check_header({1, 0, 254, 1}, "g").ok());
}

TEST(ModbusFraming, ServerSideRefusesBadRequests) {
  EXPECT_EQ(mbap::parse_read_pdu(std::vector<std::uint8_t>{5, 0, 0, 0, 1}).exception,
            1);  // write coil: not served
  EXPECT_EQ(mbap::parse_read_pdu(std::vector<std::uint8_t>{3, 0, 0, 0, 126}).exception, 3);
  EXPECT_EQ(mbap::parse_read_pdu(std::vector<std::uint8_t>{1, 0, 0, 0x07, 0xd0}).exception,
            0);  // 2000 bits
  EXPECT_EQ(mbap::parse_read_pdu(std::vector<std::uint8_t>{3, 0xff, 0xff, 0, 2}).exception, 2);
  EXPECT_EQ(mbap::parse_read_pdu(std::vector<std::uint8_t>{3, 0}).exception, 3);
}

// The stream a gateway connection receives: whole frames handed on in order,
// a frame cut short waits for its rest, and a header that cannot be trusted
// stops the scan there (naming its unit id) after the frames before it.
TEST(ModbusFraming, ScanningAStreamHandsOnWholeFramesAndStopsAtABadHeader) {
  const auto first = mbap::encode_read_response(1, 7, 3, std::vector<std::uint16_t>{0x1234});
  const auto second = mbap::encode_exception(2, 8, 4, 0x02);
  std::vector<std::uint8_t> stream = first;
  stream.insert(stream.end(), second.begin(), second.end());
  stream.insert(stream.end(), first.begin(), first.begin() + 8);  // a third, cut short

  std::vector<std::pair<std::uint16_t, std::size_t>> seen;  // transaction, body size
  const auto on_frame = [&](const mbap::Header& h, std::span<const std::uint8_t> body) {
    seen.emplace_back(h.transaction, body.size());
  };
  auto scan = mbap::scan_frames(stream, "gw", on_frame);
  EXPECT_FALSE(scan.refused);
  EXPECT_EQ(scan.consumed, first.size() + second.size());
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], std::make_pair(std::uint16_t{1}, std::size_t{4}));  // FC, count, 2 bytes
  EXPECT_EQ(seen[1], std::make_pair(std::uint16_t{2}, std::size_t{2}));  // FC|0x80, code

  seen.clear();
  std::vector<std::uint8_t> bad = first;
  const std::vector<std::uint8_t> garbage{0, 3, 0xbe, 0xef, 0, 3, 9, 1, 1};
  bad.insert(bad.end(), garbage.begin(), garbage.end());
  bad.insert(bad.end(), second.begin(), second.end());
  scan = mbap::scan_frames(bad, "gw", on_frame);
  ASSERT_TRUE(scan.refused);
  EXPECT_EQ(scan.refused->first.code, "pollers.modbus.bad_protocol_id");
  EXPECT_EQ(scan.refused->second.unit, 9);
  EXPECT_EQ(scan.consumed, first.size());
  EXPECT_EQ(seen.size(), 1u);  // the frame after the bad header is not trusted

  EXPECT_EQ(mbap::scan_frames(std::span<const std::uint8_t>(first).first(6), "gw", on_frame).consumed,
            0u);  // not even a header yet
}

}  // namespace
}  // namespace edgepoll::pollers
