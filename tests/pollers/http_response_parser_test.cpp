// HttpResponseParser on responses written out byte for byte: each framing, the
// keep-alive rules, every refusal, and (RapidCheck) the same answer however the
// bytes are split across reads.
#include "edgepoll/pollers/http_response_parser.hpp"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <vector>

#include "edgepoll/pollers/plain_url.hpp"

namespace edgepoll::pollers {
namespace {

using State = HttpResponseParser::State;
using Failure = HttpResponseParser::Failure;

HttpResponseParser parse(std::string_view bytes, std::size_t max_body = 1 << 20) {
  HttpResponseParser p(max_body);
  p.feed(bytes);
  return p;
}

TEST(HttpResponseParser, ContentLengthBody) {
  auto p = parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: x\r\n\r\nhello");
  ASSERT_EQ(p.state(), State::done);
  EXPECT_EQ(p.status(), 200);
  EXPECT_EQ(p.body(), "hello");
  EXPECT_TRUE(p.keep_alive());
}

TEST(HttpResponseParser, ContentLengthBodyWaitsForItsLastByte) {
  HttpResponseParser p;
  EXPECT_EQ(p.feed("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhell"), State::body);
  EXPECT_EQ(p.feed("o"), State::done);
  EXPECT_EQ(p.body(), "hello");
}

TEST(HttpResponseParser, ChunkedBodyWithExtensionsAndTrailers) {
  auto p = parse(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;name=value\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: 1\r\n\r\n");
  ASSERT_EQ(p.state(), State::done) << p.failure_reason();
  EXPECT_EQ(p.body(), "helloabcdefghijklmnopqrstuvwxyz");
  EXPECT_TRUE(p.keep_alive());
}

TEST(HttpResponseParser, BodyUntilCloseEndsWithTheConnection) {
  HttpResponseParser p;
  EXPECT_EQ(p.feed("HTTP/1.1 200 OK\r\n\r\n{\"a\":1}"), State::body);
  EXPECT_EQ(p.on_close(), State::done);
  EXPECT_EQ(p.body(), "{\"a\":1}");
  EXPECT_FALSE(p.keep_alive());
}

TEST(HttpResponseParser, BareLineFeedsAreTolerated) {
  auto p = parse("HTTP/1.1 200 OK\nContent-Length: 2\n\nok");
  ASSERT_EQ(p.state(), State::done) << p.failure_reason();
  EXPECT_EQ(p.body(), "ok");
}

TEST(HttpResponseParser, InterimAnswersAreSkipped) {
  auto p = parse(
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\n"
      "HTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx");
  ASSERT_EQ(p.state(), State::done) << p.failure_reason();
  EXPECT_EQ(p.status(), 201);
  EXPECT_EQ(p.body(), "x");
}

TEST(HttpResponseParser, NoContentHasNoBodyWhateverItsHeadersSay) {
  auto p = parse("HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n");
  EXPECT_EQ(p.state(), State::done);
  EXPECT_TRUE(p.body().empty());
}

TEST(HttpResponseParser, KeepAliveFollowsTheVersionAndTheConnectionHeader) {
  EXPECT_FALSE(
      parse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").keep_alive());
  EXPECT_FALSE(parse("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").keep_alive());
  EXPECT_TRUE(
      parse("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n").keep_alive());
  // Bytes nobody asked for after the answer: the answer stands, the connection goes.
  auto extra = parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA");
  EXPECT_EQ(extra.state(), State::done);
  EXPECT_EQ(extra.body(), "ok");
  EXPECT_FALSE(extra.keep_alive());
  // Both framings at once: the chunks win and the connection is not trusted again.
  auto both = parse(
      "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: "
      "chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n");
  EXPECT_EQ(both.body(), "x");
  EXPECT_FALSE(both.keep_alive());
}

TEST(HttpResponseParser, BodiesBeyondTheCapAreRefusedHoweverFramed) {
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", 10).failure(),
            Failure::too_large);
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n5\r\n", 10)
                .failure(),
            Failure::too_large);
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\n\r\n" + std::string(11, 'x'), 10).failure(),
            Failure::too_large);
  // What came of a body before the cap was passed is not kept, whatever the
  // reads were (a cut-off body read 12 bytes at a time once kept 12).
  HttpResponseParser cut(16);
  cut.feed("HTTP/1.1 200 OK\r\n\r\n" + std::string(12, 'x'));
  cut.feed(std::string(12, 'x'));
  EXPECT_EQ(cut.failure(), Failure::too_large);
  EXPECT_TRUE(cut.body().empty());
  // Exactly at the cap is fine.
  EXPECT_EQ(
      parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n" + std::string(10, 'x'), 10).state(),
      State::done);
}

TEST(HttpResponseParser, WhatIsNotHttpIsRefusedWithTheReason) {
  struct Case {
    std::string bytes;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"garbage\r\n\r\n", "not an HTTP/1.x status line"},
      {"HTTP/2 200\r\n\r\n", "not an HTTP/1.x status line"},
      {"HTTP/1.1 2x0 OK\r\n\r\n", "three digits"},
      {"HTTP/1.1 099 Low\r\n\r\n", "below 100"},
      {"HTTP/1.1 101 Switching\r\n\r\n", "switching protocols"},
      {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "not a number"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n", "not a number"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "two different"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "\"gzip\" was not asked for"},
      {"HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\n\r\n", "folded header"},
      {"HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n", "without a valid name"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "not hexadecimal"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n", "longer than its size"},
      {"HTTP/1.1 200 OK\r\nX: " + std::string(70 * 1024, 'a'), "longer than 64 KiB"},
  };
  for (const auto& c : cases) {
    const auto p = parse(c.bytes);
    ASSERT_EQ(p.state(), State::failed) << c.bytes.substr(0, 60);
    EXPECT_EQ(p.failure(), Failure::malformed) << c.bytes.substr(0, 60);
    EXPECT_NE(p.failure_reason().find(c.reason), std::string::npos)
        << c.bytes.substr(0, 60) << " -> " << p.failure_reason();
    EXPECT_FALSE(p.keep_alive());
  }
}

TEST(HttpResponseParser, ACloseBeforeTheEndIsATruncation) {
  HttpResponseParser nothing;
  EXPECT_TRUE(nothing.nothing_received());
  EXPECT_EQ(nothing.on_close(), State::failed);
  EXPECT_EQ(nothing.failure(), Failure::truncated);
  EXPECT_NE(nothing.failure_reason().find("before any answer"), std::string::npos);

  HttpResponseParser cut;
  cut.feed("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel");
  EXPECT_FALSE(cut.nothing_received());
  EXPECT_EQ(cut.on_close(), State::failed);
  EXPECT_EQ(cut.failure(), Failure::truncated);
}

TEST(HttpResponseParser, ResetReadsTheNextAnswerOnTheSameConnection) {
  HttpResponseParser p;
  p.feed("HTTP/1.1 500 Oops\r\nContent-Length: 1\r\n\r\nx");
  ASSERT_EQ(p.state(), State::done);
  p.reset(1 << 20);
  EXPECT_TRUE(p.nothing_received());
  p.feed("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  EXPECT_EQ(p.status(), 200);
  EXPECT_EQ(p.body(), "ok");
}

// A response the property writes: a head with random headers, then the body
// framed one of three ways.
struct Written {
  std::string bytes;
  std::string body;
  bool framed_by_close = false;
};

Written write_response(int status, const std::string& body, int framing,
                       const std::vector<std::size_t>& chunk_sizes) {
  Written w;
  w.body = body;
  w.bytes = "HTTP/1.1 " + std::to_string(status) + " Reason Phrase\r\nServer: device\r\n";
  if (framing == 0) {
    w.bytes += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  } else if (framing == 1) {
    w.bytes += "Transfer-Encoding: chunked\r\n\r\n";
    std::size_t at = 0;
    for (std::size_t size : chunk_sizes) {
      size = std::min(size, body.size() - at);
      if (size == 0) continue;
      char hex[32];
      std::snprintf(hex, sizeof hex, "%zX", size);
      w.bytes += std::string(hex) + "\r\n" + body.substr(at, size) + "\r\n";
      at += size;
    }
    if (at < body.size()) {
      char hex[32];
      std::snprintf(hex, sizeof hex, "%zx", body.size() - at);
      w.bytes += std::string(hex) + "\r\n" + body.substr(at) + "\r\n";
    }
    w.bytes += "0\r\n\r\n";
  } else {
    w.bytes += "Connection: close\r\n\r\n" + body;
    w.framed_by_close = true;
  }
  return w;
}

RC_GTEST_PROP(HttpResponseParserProperty, SplittingTheBytesChangesNothing,
              (const std::string& body, const std::vector<std::size_t>& chunk_sizes,
               const std::vector<std::size_t>& cuts)) {
  const int framing = *rc::gen::inRange(0, 3);
  const int status = *rc::gen::element(200, 201, 404, 500);
  const Written w = write_response(status, body, framing, chunk_sizes);
  HttpResponseParser whole;
  whole.feed(w.bytes);
  if (w.framed_by_close) whole.on_close();
  RC_ASSERT(whole.state() == State::done);
  RC_ASSERT(whole.body() == w.body);
  RC_ASSERT(whole.status() == status);

  // The same bytes in pieces, as reads would bring them.
  HttpResponseParser split;
  std::size_t at = 0;
  for (std::size_t cut : cuts) {
    const std::size_t n = std::min(cut % 17, w.bytes.size() - at);
    split.feed(std::string_view(w.bytes).substr(at, n));
    at += n;
  }
  split.feed(std::string_view(w.bytes).substr(at));
  if (w.framed_by_close) split.on_close();
  RC_ASSERT(split.state() == State::done);
  RC_ASSERT(split.body() == whole.body());
  RC_ASSERT(split.keep_alive() == whole.keep_alive());
  RC_ASSERT(split.keep_alive() == !w.framed_by_close);
}

TEST(PlainUrl, NumericAddressesAreTakenWhole) {
  auto v4 = parse_plain_url("http://10.1.2.3:8080/devices/a?x=1#frag");
  ASSERT_TRUE(v4.has_value());
  EXPECT_EQ(v4->endpoint.address().to_string(), "10.1.2.3");
  EXPECT_EQ(v4->endpoint.port(), 8080);
  EXPECT_EQ(v4->authority, "10.1.2.3:8080");
  EXPECT_EQ(v4->target, "/devices/a?x=1");

  auto bare = parse_plain_url("http://10.1.2.3");
  ASSERT_TRUE(bare.has_value());
  EXPECT_EQ(bare->endpoint.port(), 80);
  EXPECT_EQ(bare->target, "/");

  auto v6 = parse_plain_url("http://[::1]:9000/x");
  ASSERT_TRUE(v6.has_value());
  EXPECT_TRUE(v6->endpoint.address().is_v6());
  EXPECT_EQ(v6->endpoint.port(), 9000);
  EXPECT_EQ(v6->authority, "[::1]:9000");
}

TEST(PlainUrl, EverythingElseIsLeftToLibcurl) {
  for (const char* url :
       {"https://10.0.0.1/x", "http://device.local/x", "http://user:pw@10.0.0.1/x",
        "http://10.0.0.1:0/x", "http://10.0.0.1:70000/x", "http://10.0.0.1:/x",
        "http://10.0.0.1/a b", "http://10.0.0.1?x", "http://[::1/x", "gopher://1.2.3.4/",
        "http://127.1/x"})
    EXPECT_FALSE(parse_plain_url(url).has_value()) << url;
}

}  // namespace
}  // namespace edgepoll::pollers
