#include "edgepoll/appliance/etcd_client.hpp"

#include <array>
#include <charconv>
#include <nlohmann/json.hpp>
#include <optional>

#include "edgepoll/pollers/base64.hpp"

namespace edgepoll::appliance {

namespace {

using pollers::base64_decode;
using pollers::base64_encode;

// etcd's gateway writes int64 as a JSON string ("TTL":"5"); absent means 0.
std::optional<std::int64_t> int64_field(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return 0;
  const auto& v = j[key];
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (!v.is_string()) return std::nullopt;
  const auto& s = v.get_ref<const std::string&>();
  std::int64_t out = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return out;
}

std::optional<std::string> string_field(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return std::string();
  if (!j[key].is_string()) return std::nullopt;
  return j[key].get<std::string>();
}

Error bad_response(const std::string& what, const std::string& body) {
  return make_error("etcd.bad_response",
                    what + ": unexpected answer from etcd: " + body.substr(0, 200), true,
                    "is this an etcd v3 client URL (the JSON gateway, e.g. http://HOST:2379)?");
}

Error lease_not_found(std::int64_t lease) {
  return make_error("etcd.lease_not_found",
                    "etcd has no lease " + std::to_string(lease) + " (it expired or was revoked)",
                    false, "grant a new lease");
}

// The gateway answers an unknown lease with 404 (gRPC NOT_FOUND); the fetcher
// reports that as a non-retryable HTTP status error.
bool is_not_found(const Error& e) {
  constexpr std::string_view suffix = "HTTP status 404";
  return e.code == "pollers.http.status" && e.message.size() >= suffix.size() &&
         e.message.compare(e.message.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Result<nlohmann::json> parse_json(const Result<std::string>& body, const std::string& what) {
  if (!body.ok()) return body.error();
  auto j = nlohmann::json::parse(body.value(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return bad_response(what, body.value());
  return j;
}

}  // namespace

struct EtcdClient::Call {
  std::string path;
  std::string body;
  std::function<void(Result<std::string>)> done;
  std::size_t tried = 0;
  std::string failures;  // one line per endpoint that failed
};

EtcdClient::EtcdClient(boost::asio::io_context& io, EtcdClientOptions options)
    : options_(std::move(options)), fetcher_(io, pollers::FetcherOptions{.connection_pools = 1}) {
  if (options_.endpoints.empty()) throw std::invalid_argument("EtcdClient: no endpoints");
}

EtcdClient::~EtcdClient() = default;

const std::string& EtcdClient::preferred_endpoint() const {
  return options_.endpoints[preferred_];
}

void EtcdClient::post(const std::string& path, std::string body,
                      std::function<void(Result<std::string>)> done) {
  auto call = std::make_shared<Call>();
  call->path = path;
  call->body = std::move(body);
  call->done = std::move(done);
  attempt(std::move(call));
}

void EtcdClient::attempt(std::shared_ptr<Call> call) {
  const std::size_t index = (preferred_ + call->tried) % options_.endpoints.size();
  pollers::FetchRequest request;
  std::string base = options_.endpoints[index];
  while (!base.empty() && base.back() == '/') base.pop_back();
  request.url = base + call->path;
  request.timeout = options_.timeout;
  request.post_body = call->body;
  fetcher_.fetch(request, [this, call, index](Result<pollers::FetchResponse> r) {
    if (r.ok()) {
      preferred_ = index;
      return call->done(std::move(r->body));
    }
    Error e = r.take_error();
    ++call->tried;
    if (!e.retryable || call->tried >= options_.endpoints.size()) {
      if (!e.retryable) return call->done(std::move(e));
      call->failures += (call->failures.empty() ? "" : "; ") + e.message;
      return call->done(make_error("etcd.unreachable",
                                   "no etcd endpoint answered: " + call->failures, true,
                                   "is etcd running and are [registration] endpoints right?"));
    }
    call->failures += (call->failures.empty() ? "" : "; ") + e.message;
    attempt(call);
  });
}

void EtcdClient::grant(std::chrono::seconds ttl, Callback<EtcdLease> done) {
  const nlohmann::json body = {{"TTL", ttl.count()}};
  post("/v3/lease/grant", body.dump(), [done = std::move(done)](Result<std::string> r) {
    auto j = parse_json(r, "lease grant");
    if (!j.ok()) return done(j.take_error());
    if (j->contains("error"))
      return done(make_error("etcd.rejected", "lease grant: " + j->value("error", ""), false));
    const auto id = int64_field(*j, "ID");
    const auto granted = int64_field(*j, "TTL");
    if (!id || !granted || *id == 0) return done(bad_response("lease grant", r.value()));
    done(EtcdLease{*id, *granted});
  });
}

void EtcdClient::put(const std::string& key, const std::string& value, std::int64_t lease,
                     Callback<Ok> done) {
  nlohmann::json body = {{"key", base64_encode(key)}, {"value", base64_encode(value)}};
  if (lease != 0) body["lease"] = std::to_string(lease);
  post("/v3/kv/put", body.dump(), [lease, done = std::move(done)](Result<std::string> r) {
    if (!r.ok() && is_not_found(r.error())) return done(lease_not_found(lease));
    auto j = parse_json(r, "put");
    if (!j.ok()) return done(j.take_error());
    if (!j->contains("header")) return done(bad_response("put", r.value()));
    done(Ok{});
  });
}

void EtcdClient::keepalive(std::int64_t lease, Callback<std::int64_t> done) {
  const nlohmann::json body = {{"ID", std::to_string(lease)}};
  post("/v3/lease/keepalive", body.dump(), [lease, done = std::move(done)](Result<std::string> r) {
    auto j = parse_json(r, "lease keepalive");
    if (!j.ok()) return done(j.take_error());
    // A streaming call: the gateway wraps the one answer in "result". A lease
    // etcd does not have comes back with no TTL (0), not as an error.
    const auto* result = j->contains("result") ? &(*j)["result"] : nullptr;
    if (!result || !result->is_object()) return done(bad_response("lease keepalive", r.value()));
    const auto ttl = int64_field(*result, "TTL");
    if (!ttl) return done(bad_response("lease keepalive", r.value()));
    if (*ttl <= 0) return done(lease_not_found(lease));
    done(*ttl);
  });
}

void EtcdClient::revoke(std::int64_t lease, Callback<Ok> done) {
  const nlohmann::json body = {{"ID", std::to_string(lease)}};
  post("/v3/lease/revoke", body.dump(), [done = std::move(done)](Result<std::string> r) {
    if (!r.ok() && is_not_found(r.error())) return done(Ok{});
    auto j = parse_json(r, "lease revoke");
    if (!j.ok()) return done(j.take_error());
    done(Ok{});
  });
}

void EtcdClient::range(const std::string& key, Callback<std::vector<EtcdKeyValue>> done,
                       bool prefix) {
  nlohmann::json body = {{"key", base64_encode(key)}};
  if (prefix) {
    // range_end = the key with its last byte incremented: every key with this prefix.
    std::string end = key;
    while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xFF) end.pop_back();
    if (end.empty()) {
      end = std::string(1, '\0');  // "\0" means: every key from `key` on
    } else {
      end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
    }
    body["range_end"] = base64_encode(end);
  }
  post("/v3/kv/range", body.dump(), [done = std::move(done)](Result<std::string> r) {
    auto j = parse_json(r, "range");
    if (!j.ok()) return done(j.take_error());
    std::vector<EtcdKeyValue> out;
    if (j->contains("kvs")) {
      const auto& kvs = (*j)["kvs"];
      if (!kvs.is_array()) return done(bad_response("range", r.value()));
      for (const auto& kv : kvs) {
        const auto k64 = string_field(kv, "key");
        const auto v64 = string_field(kv, "value");
        auto k = k64 ? base64_decode(*k64) : std::nullopt;
        auto v = v64 ? base64_decode(*v64) : std::nullopt;
        auto lease = int64_field(kv, "lease");
        if (!k || !v || !lease) return done(bad_response("range", r.value()));
        out.push_back({std::move(*k), std::move(*v), *lease});
      }
    }
    done(std::move(out));
  });
}

}  // namespace edgepoll::appliance
