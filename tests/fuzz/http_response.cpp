// The bytes a device sends back to an HTTP GET, through HttpResponseParser.
// The first byte picks max_body (so that the cap is reached often) and the
// second the sizes of the reads the rest arrives in. Beyond not crashing: the
// answer is the same whole and split into reads; a body never exceeds the cap;
// a refusal has a reason; a connection that failed is never kept.
#include "edgepoll/pollers/http_response_parser.hpp"
#include "fuzz_support.hpp"

namespace {

using edgepoll::fuzz::require;
using edgepoll::pollers::HttpResponseParser;

void finish(HttpResponseParser& p) {
  if (p.state() != HttpResponseParser::State::done) p.on_close();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t max_body = std::size_t{data[0]} * 16;
  const unsigned step = data[1] % 23 + 1;
  const std::string_view bytes = edgepoll::fuzz::text(data + 2, size - 2);

  HttpResponseParser whole(max_body);
  whole.feed(bytes);
  finish(whole);

  HttpResponseParser split(max_body);
  for (std::size_t at = 0; at < bytes.size(); at += step) split.feed(bytes.substr(at, step));
  finish(split);

  require(whole.state() == split.state(), "split reads end in the same state");
  require(whole.failure() == split.failure(), "split reads fail the same way");
  require(whole.status() == split.status(), "split reads read the same status");
  require(whole.body() == split.body(), "split reads read the same body");
  require(whole.keep_alive() == split.keep_alive(), "split reads agree on keep-alive");
  require(whole.body().size() <= max_body, "the body stays within max_body");
  if (whole.state() == HttpResponseParser::State::failed) {
    require(!whole.failure_reason().empty(), "a refusal has a reason");
    require(!whole.keep_alive(), "a failed answer's connection is not kept");
  } else {
    require(whole.state() == HttpResponseParser::State::done, "a closed answer is done or failed");
    require(whole.status() >= 200, "a final answer has a final status");
  }
  return 0;
}
