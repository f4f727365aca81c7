#pragma once
// Maps libcurl's outcome of one transfer to the project's Error vocabulary.
#include <string>

#include <curl/curl.h>

#include "edgepoll/supervision/result.hpp"

namespace edgepoll::pollers::detail {

struct TransferOutcome {
  CURLcode code = CURLE_OK;
  long http_status = 0;
  bool body_too_large = false;  // our write callback aborted at the size cap
  std::size_t max_body = 0;
  std::string curl_message;     // CURLOPT_ERRORBUFFER, may be empty
  std::string device_id;
  std::string url;
  bool post = false;
};

// An Error for a failed transfer (code != OK, or HTTP status >= 400).
Error transfer_error(const TransferOutcome& outcome);

}  // namespace edgepoll::pollers::detail
