#include "edgepoll/pollers/http_response_parser.hpp"

#include <algorithm>
#include <charconv>

namespace edgepoll::pollers {
namespace {

// A chunk-size or trailer line longer than this is not a device's answer.
constexpr std::size_t kMaxLine = 4096;

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string_view without_cr(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// Calls `each` with every comma-separated token of a header value, trimmed.
template <class F>
bool for_each_token(std::string_view value, F each) {
  while (true) {
    const auto comma = value.find(',');
    if (!each(trim(value.substr(0, comma)))) return false;
    if (comma == std::string_view::npos) return true;
    value.remove_prefix(comma + 1);
  }
}

bool is_token_char(char c) {
  return c > 32 && c < 127 && c != ':' && c != '(' && c != ')' && c != ',' && c != '"';
}

}  // namespace

void HttpResponseParser::reset(std::size_t max_body) {
  state_ = State::head;
  failure_ = Failure::none;
  reason_.clear();
  max_body_ = max_body;
  received_ = 0;
  head_.clear();
  status_ = 0;
  http10_ = false;
  keep_alive_ = true;
  connection_close_ = false;
  connection_keep_alive_ = false;
  has_length_ = false;
  chunked_ = false;
  content_length_ = 0;
  framing_ = Framing::none;
  remaining_ = 0;
  chunk_ = Chunk::size_line;
  line_.clear();
  body_.clear();
}

HttpResponseParser::State HttpResponseParser::fail(Failure failure, std::string reason) {
  state_ = State::failed;
  failure_ = failure;
  reason_ = std::move(reason);
  keep_alive_ = false;
  // Whatever part of the body came is no answer, and how much of it came
  // depends on how the reads fell: none is kept.
  body_.clear();
  return state_;
}

HttpResponseParser::State HttpResponseParser::feed(std::string_view bytes) {
  if (state_ == State::failed) return state_;
  if (state_ == State::done) {
    if (!bytes.empty()) keep_alive_ = false;
    return state_;
  }
  received_ += bytes.size();
  if (state_ == State::body) return feed_body(bytes);
  // The usual answer brings its whole head in one read: parsed where it lies,
  // without a copy. Only a head split across reads is assembled in head_.
  if (head_.empty()) return parse_head(bytes);
  head_.append(bytes);
  return parse_head(head_);
}

HttpResponseParser::State HttpResponseParser::on_close() {
  keep_alive_ = false;
  if (state_ == State::done || state_ == State::failed) return state_;
  if (state_ == State::body && framing_ == Framing::until_close) return state_ = State::done;
  return fail(Failure::truncated, received_ == 0
                                      ? "the connection closed before any answer"
                                      : "the connection closed before the answer was complete");
}

HttpResponseParser::State HttpResponseParser::parse_head(std::string_view data) {
  const bool assembled = !head_.empty() && data.data() == head_.data();
  while (true) {
    // The head ends at an empty line; bare LF line ends are tolerated.
    auto end = data.find("\r\n\r\n");
    std::size_t terminator = 4;
    if (const auto lf = data.find("\n\n"); lf != std::string_view::npos && lf < end) {
      end = lf;
      terminator = 2;
    }
    if (end == std::string_view::npos || end > kMaxHead) {
      if (data.size() > kMaxHead)
        return fail(Failure::malformed, "status line and headers longer than 64 KiB");
      // Keep what came so far for the next read.
      if (assembled)
        head_.erase(0, static_cast<std::size_t>(data.data() - head_.data()));
      else
        head_.assign(data);
      return state_;
    }
    std::string_view head = data.substr(0, end);
    data.remove_prefix(end + terminator);
    const auto first_end = std::min(head.find('\n'), head.size());
    if (!parse_status_line(without_cr(head.substr(0, first_end)))) return state_;
    head.remove_prefix(std::min(first_end + 1, head.size()));
    while (!head.empty()) {
      const auto line_end = std::min(head.find('\n'), head.size());
      if (!parse_header(without_cr(head.substr(0, line_end)))) return state_;
      head.remove_prefix(std::min(line_end + 1, head.size()));
    }
    if (status_ == 101)
      return fail(Failure::malformed, "HTTP status 101 (switching protocols) was not asked for");
    if (status_ >= 200) {
      if (start_body() == State::body)
        feed_body(data);
      else if (state_ == State::done && !data.empty())
        keep_alive_ = false;
      head_.clear();  // last: `data` may point into it
      return state_;
    }
    // 1xx: an interim answer; the real one follows.
    has_length_ = chunked_ = connection_close_ = connection_keep_alive_ = false;
    content_length_ = 0;
  }
}

bool HttpResponseParser::parse_status_line(std::string_view line) {
  // HTTP/1.x SP 3DIGIT [SP reason]
  constexpr std::string_view kVersion = "HTTP/1.";
  if (line.size() < 12 || line.substr(0, kVersion.size()) != kVersion ||
      (line[7] != '0' && line[7] != '1') || line[8] != ' ' ||
      (line.size() > 12 && line[12] != ' ')) {
    fail(Failure::malformed,
         "not an HTTP/1.x status line: \"" +
             std::string(line.substr(0, std::min<std::size_t>(line.size(), 40))) + "\"");
    return false;
  }
  int status = 0;
  for (char c : line.substr(9, 3)) {
    if (c < '0' || c > '9') {
      fail(Failure::malformed, "the status code is not three digits");
      return false;
    }
    status = status * 10 + (c - '0');
  }
  if (status < 100) {
    fail(Failure::malformed, "status code " + std::to_string(status) + " below 100");
    return false;
  }
  status_ = status;
  http10_ = line[7] == '0';
  return true;
}

bool HttpResponseParser::parse_header(std::string_view line) {
  if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
    fail(Failure::malformed, "a folded header line (obsolete line folding)");
    return false;
  }
  const auto colon = line.find(':');
  const std::string_view name = line.substr(0, colon);
  if (colon == std::string_view::npos || name.empty() ||
      !std::all_of(name.begin(), name.end(), is_token_char)) {
    fail(Failure::malformed,
         "a header line without a valid name: \"" +
             std::string(line.substr(0, std::min<std::size_t>(line.size(), 40))) + "\"");
    return false;
  }
  const std::string_view value = trim(line.substr(colon + 1));
  if (iequals(name, "content-length")) {
    std::uint64_t length = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), length);
    if (ec != std::errc() || end != value.data() + value.size() || value.empty() ||
        value.front() == '+' || value.front() == '-') {
      fail(Failure::malformed, "Content-Length \"" + std::string(value) + "\" is not a number");
      return false;
    }
    if (has_length_ && length != content_length_) {
      fail(Failure::malformed, "two different Content-Length headers");
      return false;
    }
    has_length_ = true;
    content_length_ = length;
  } else if (iequals(name, "transfer-encoding")) {
    const bool known = for_each_token(value, [&](std::string_view coding) {
      if (iequals(coding, "chunked")) {
        chunked_ = true;
        return true;
      }
      if (iequals(coding, "identity")) return true;
      fail(Failure::malformed, "transfer coding \"" + std::string(coding) +
                                   "\" was not asked for (only chunked is read)");
      return false;
    });
    if (!known) return false;
  } else if (iequals(name, "connection")) {
    for_each_token(value, [&](std::string_view option) {
      if (iequals(option, "close")) connection_close_ = true;
      if (iequals(option, "keep-alive")) connection_keep_alive_ = true;
      return true;
    });
  }
  return true;
}

HttpResponseParser::State HttpResponseParser::start_body() {
  keep_alive_ = http10_ ? connection_keep_alive_ && !connection_close_ : !connection_close_;
  state_ = State::body;
  if (status_ == 204 || status_ == 304)
    return state_ = State::done;  // no body, whatever the headers say
  if (chunked_) {
    framing_ = Framing::chunked;
    // Both framings at once: the chunks win, and the connection is not trusted again.
    if (has_length_) keep_alive_ = false;
    return state_;
  }
  if (has_length_) {
    if (content_length_ > max_body_) {
      fail(Failure::too_large, "Content-Length " + std::to_string(content_length_));
      return state_;
    }
    framing_ = Framing::length;
    remaining_ = content_length_;
    body_.reserve(static_cast<std::size_t>(content_length_));
    if (remaining_ == 0) state_ = State::done;
    return state_;
  }
  framing_ = Framing::until_close;
  keep_alive_ = false;
  return state_;
}

bool HttpResponseParser::append(std::string_view bytes) {
  if (bytes.size() > max_body_ - body_.size()) {
    fail(Failure::too_large, "body longer than max_body");
    return false;
  }
  body_.append(bytes);
  return true;
}

HttpResponseParser::State HttpResponseParser::feed_body(std::string_view bytes) {
  switch (framing_) {
    case Framing::length: {
      const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, bytes.size()));
      body_.append(bytes.substr(0, take));  // within max_body: checked at the header
      remaining_ -= take;
      if (remaining_ == 0) {
        state_ = State::done;
        if (take < bytes.size()) keep_alive_ = false;
      }
      return state_;
    }
    case Framing::until_close:
      append(bytes);
      return state_;
    case Framing::chunked:
      return feed_chunked(bytes);
    case Framing::none:
      break;
  }
  return state_;
}

HttpResponseParser::State HttpResponseParser::feed_chunked(std::string_view bytes) {
  while (!bytes.empty() && state_ == State::body) {
    if (chunk_ == Chunk::data) {
      const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, bytes.size()));
      if (!append(bytes.substr(0, take))) return state_;
      bytes.remove_prefix(take);
      remaining_ -= take;
      if (remaining_ == 0) chunk_ = Chunk::data_end;
      continue;
    }
    // Every other part is a line.
    const auto newline = bytes.find('\n');
    line_.append(bytes.substr(0, newline));
    if (line_.size() > kMaxLine) return fail(Failure::malformed, "a chunk line longer than 4 KiB");
    if (newline == std::string_view::npos) return state_;
    bytes.remove_prefix(newline + 1);
    const std::string_view line = without_cr(line_);
    switch (chunk_) {
      case Chunk::size_line: {
        const std::string_view digits = trim(line.substr(0, line.find(';')));
        std::uint64_t size = 0;
        const auto [end, ec] =
            std::from_chars(digits.data(), digits.data() + digits.size(), size, 16);
        if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty() ||
            digits.front() == '+' || digits.front() == '-')
          return fail(Failure::malformed, "chunk size \"" + std::string(digits.substr(0, 20)) +
                                              "\" is not hexadecimal");
        if (size > max_body_ - body_.size())
          return fail(Failure::too_large, "body longer than max_body");
        remaining_ = size;
        chunk_ = size == 0 ? Chunk::trailers : Chunk::data;
        break;
      }
      case Chunk::data_end:
        if (!line.empty()) return fail(Failure::malformed, "a chunk longer than its size");
        chunk_ = Chunk::size_line;
        break;
      case Chunk::trailers:
        if (line.empty()) state_ = State::done;
        break;
      case Chunk::data:
        break;
    }
    line_.clear();
  }
  if (state_ == State::done && !bytes.empty()) keep_alive_ = false;
  return state_;
}

}  // namespace edgepoll::pollers
