#pragma once
// One HTTP/1.1 response read from a byte stream as it arrives: the status line,
// the headers, then a body framed by Content-Length, by the chunked transfer
// coding, or by the connection's close. No sockets here, so it is unit-tested
// and fuzzed on its own. The bytes come from a device and are never trusted:
// every length is bounded, every number checked for overflow.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace edgepoll::pollers {

class HttpResponseParser {
 public:
  enum class State { head, body, done, failed };
  enum class Failure { none, malformed, too_large, truncated };

  // A status line plus headers longer than this is not a device's answer.
  static constexpr std::size_t kMaxHead = std::size_t{64} * 1024;

  explicit HttpResponseParser(std::size_t max_body = 1 << 20) { reset(max_body); }

  // Ready for the next response (a kept-alive connection's next request).
  void reset(std::size_t max_body);

  // Consumes every byte given. Bytes after a complete response mean the device
  // sent more than it was asked for: the response stands, the connection is
  // not reused.
  State feed(std::string_view bytes);
  // The connection closed: completes a body framed by the close, fails any
  // other unfinished response (nothing at all, or cut short).
  State on_close();

  State state() const { return state_; }
  Failure failure() const { return failure_; }
  const std::string& failure_reason() const { return reason_; }
  // Nothing arrived yet: a kept-alive connection that dies now died idle.
  bool nothing_received() const { return received_ == 0; }
  std::size_t max_body() const { return max_body_; }

  int status() const { return status_; }
  // The body read so far; empty once the answer failed.
  std::string& body() { return body_; }
  // The connection may carry the next request (HTTP/1.1 without "Connection:
  // close", or HTTP/1.0 with "keep-alive", and nothing left over).
  bool keep_alive() const { return keep_alive_; }

 private:
  enum class Framing { length, chunked, until_close, none };
  enum class Chunk { size_line, data, data_end, trailers };

  State fail(Failure failure, std::string reason);
  State parse_head(std::string_view data);
  bool parse_status_line(std::string_view line);
  bool parse_header(std::string_view line);
  State start_body();
  State feed_body(std::string_view bytes);
  State feed_chunked(std::string_view bytes);
  bool append(std::string_view bytes);

  State state_ = State::head;
  Failure failure_ = Failure::none;
  std::string reason_;
  std::size_t max_body_ = 0;
  std::uint64_t received_ = 0;

  std::string head_;  // a head split across reads, assembled
  int status_ = 0;
  bool http10_ = false;
  bool keep_alive_ = true;
  bool connection_close_ = false;
  bool connection_keep_alive_ = false;
  bool has_length_ = false;
  bool chunked_ = false;
  std::uint64_t content_length_ = 0;

  Framing framing_ = Framing::none;
  std::uint64_t remaining_ = 0;  // of the body (length) or of the chunk (chunked)
  Chunk chunk_ = Chunk::size_line;
  std::string line_;  // a chunk-size or trailer line being assembled
  std::string body_;
};

}  // namespace edgepoll::pollers
