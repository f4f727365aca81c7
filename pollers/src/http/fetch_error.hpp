#pragma once
// The project's Error vocabulary for a failed transfer, whichever client ran it
// (libcurl or the plain-HTTP client): one code, retry flag and hint per kind.
#include <curl/curl.h>

#include <string>

#include "edgepoll/supervision/result.hpp"

namespace edgepoll::pollers::detail {

enum class TransferFailure {
  none,     // the transfer worked; an HTTP status >= 400 may still fail it
  connect,  // refused, unreachable: nobody answered the connect
  timeout,
  dns,
  reset,  // closed or reset by the device, or cut short
  tls,
  bad_url,
  too_large,  // the body exceeds max_body
  malformed,  // the answer is not HTTP/1.x
  out_of_memory,
  other,
};

struct TransferOutcome {
  TransferFailure failure = TransferFailure::none;
  long http_status = 0;
  std::size_t max_body = 0;
  std::string detail;  // what went wrong, in the client's words
  std::string device_id;
  std::string url;
  bool post = false;
};

// An Error for a failed transfer (a failure, or HTTP status >= 400).
Error transfer_error(const TransferOutcome& outcome);

// libcurl's result code in the vocabulary above.
TransferFailure classify(CURLcode code);

}  // namespace edgepoll::pollers::detail
