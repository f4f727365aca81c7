#include "fetch_error.hpp"

#include <fmt/format.h>

namespace edgepoll::pollers::detail {
namespace {

struct Kind {
  const char* code;
  bool retryable;
  const char* hint;
};

Kind kind_of(TransferFailure failure) {
  switch (failure) {
    case TransferFailure::connect:
      return {"pollers.http.connect_refused", true, "is the device powered and listening?"};
    case TransferFailure::timeout:
      return {"pollers.http.timeout", true, "the device is slow or hung; raise timeout if slow"};
    case TransferFailure::dns:
      return {"pollers.http.dns", true, "check the host name in the device URL"};
    case TransferFailure::reset:
      return {"pollers.http.reset", true, "the device closed or reset the connection"};
    case TransferFailure::tls:
      return {"pollers.http.tls", false, "check the device certificate and ca_file"};
    case TransferFailure::bad_url:
      return {"pollers.http.bad_url", false, "fix the device URL in its config"};
    case TransferFailure::too_large:
      return {"pollers.http.too_large", false, "raise max_body for this device if legitimate"};
    case TransferFailure::malformed:
      return {"pollers.http.protocol", true, "the device's answer is not valid HTTP/1.1"};
    case TransferFailure::out_of_memory:
      return {"pollers.http.out_of_memory", true, ""};
    case TransferFailure::none:
    case TransferFailure::other:
      break;
  }
  return {"pollers.http.transfer", true, ""};
}

}  // namespace

TransferFailure classify(CURLcode code) {
  switch (code) {
    case CURLE_OK:
      return TransferFailure::none;
    case CURLE_COULDNT_CONNECT:
      return TransferFailure::connect;
    case CURLE_OPERATION_TIMEDOUT:
      return TransferFailure::timeout;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return TransferFailure::dns;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
      return TransferFailure::reset;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
      return TransferFailure::tls;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return TransferFailure::bad_url;
    case CURLE_FILESIZE_EXCEEDED:
      return TransferFailure::too_large;
    case CURLE_WEIRD_SERVER_REPLY:
      return TransferFailure::malformed;
    case CURLE_OUT_OF_MEMORY:
      return TransferFailure::out_of_memory;
    default:
      return TransferFailure::other;
  }
}

Error transfer_error(const TransferOutcome& o) {
  const char* method = o.post ? "POST" : "GET";
  const std::string who =
      o.device_id.empty() ? fmt::format("{} {}", method, o.url)
                          : fmt::format("device \"{}\": {} {}", o.device_id, method, o.url);
  if (o.failure == TransferFailure::too_large)
    return make_error("pollers.http.too_large",
                      fmt::format("{}: response body exceeds max_body of {} bytes", who,
                                  o.max_body),
                      false, "raise max_body for this device if the size is legitimate");
  if (o.failure == TransferFailure::none) {
    // HTTP-level failure: 5xx, 408 and 429 may pass on their own; other 4xx will not.
    const bool retryable = o.http_status >= 500 || o.http_status == 408 || o.http_status == 429;
    return make_error("pollers.http.status",
                      fmt::format("{}: HTTP status {}", who, o.http_status), retryable,
                      o.http_status == 401 || o.http_status == 403
                          ? "check the device credentials"
                          : "");
  }
  const Kind k = kind_of(o.failure);
  return make_error(k.code, fmt::format("{}: {}", who, o.detail), k.retryable, k.hint);
}

}  // namespace edgepoll::pollers::detail
