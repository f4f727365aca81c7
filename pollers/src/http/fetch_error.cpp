#include "fetch_error.hpp"

#include <fmt/format.h>

namespace edgepoll::pollers::detail {
namespace {

struct Kind {
  const char* code;
  bool retryable;
  const char* hint;
};

Kind classify(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
      return {"pollers.http.connect_refused", true, "is the device powered and listening?"};
    case CURLE_OPERATION_TIMEDOUT:
      return {"pollers.http.timeout", true, "the device is slow or hung; raise timeout if slow"};
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return {"pollers.http.dns", true, "check the host name in the device URL"};
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
      return {"pollers.http.reset", true, "the device closed or reset the connection"};
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
      return {"pollers.http.tls", false, "check the device certificate and ca_file"};
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return {"pollers.http.bad_url", false, "fix the device URL in its config"};
    case CURLE_FILESIZE_EXCEEDED:
      return {"pollers.http.too_large", false, "raise max_body for this device if legitimate"};
    case CURLE_OUT_OF_MEMORY:
      return {"pollers.http.out_of_memory", true, ""};
    default:
      return {"pollers.http.transfer", true, ""};
  }
}

}  // namespace

Error transfer_error(const TransferOutcome& o) {
  const char* method = o.post ? "POST" : "GET";
  const std::string who =
      o.device_id.empty() ? fmt::format("{} {}", method, o.url)
                          : fmt::format("device \"{}\": {} {}", o.device_id, method, o.url);
  if (o.body_too_large || o.code == CURLE_FILESIZE_EXCEEDED)
    return make_error("pollers.http.too_large",
                      fmt::format("{}: response body exceeds max_body of {} bytes", who,
                                  o.max_body),
                      false, "raise max_body for this device if the size is legitimate");
  if (o.code == CURLE_OK) {
    // HTTP-level failure: 5xx, 408 and 429 may pass on their own; other 4xx will not.
    const bool retryable = o.http_status >= 500 || o.http_status == 408 || o.http_status == 429;
    return make_error("pollers.http.status",
                      fmt::format("{}: HTTP status {}", who, o.http_status), retryable,
                      o.http_status == 401 || o.http_status == 403
                          ? "check the device credentials"
                          : "");
  }
  const Kind k = classify(o.code);
  return make_error(k.code,
                    fmt::format("{}: {} ({})", who,
                                o.curl_message.empty() ? curl_easy_strerror(o.code)
                                                       : o.curl_message,
                                static_cast<int>(o.code)),
                    k.retryable, k.hint);
}

}  // namespace edgepoll::pollers::detail
