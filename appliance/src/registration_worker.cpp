#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include "edgepoll/appliance/registration.hpp"
#include "edgepoll/supervision/runtime.hpp"
#include "edgepoll/version.hpp"

namespace edgepoll::appliance {

using namespace supervision;

namespace {
enum ReplyKind { kGrant, kPut, kKeepalive, kRevoke };
const char* kWhat[] = {"lease grant", "put", "lease keepalive", "lease revoke"};

template <class T>
std::int64_t number_of(const T&) {
  return 0;
}
std::int64_t number_of(const EtcdLease& l) {
  return l.id;
}
std::int64_t number_of(const std::int64_t& n) {
  return n;
}

std::string not_ready(const ReadinessVerdict& v) {
  return "not ready: " + (v.reason.empty() ? std::string("readiness failed") : v.reason);
}

// A request may take this long per endpoint: short enough that a keepalive
// (every ttl/3) is retried before the lease runs out.
Duration request_timeout(std::chrono::seconds ttl) {
  return std::min<Duration>(std::chrono::seconds(2), Duration(ttl) / 4);
}
}  // namespace

struct RegistrationWorker::Reply {
  int kind = 0;
  std::optional<Error> error;
  std::int64_t number = 0;  // grant: the lease id; keepalive: the TTL
  std::int64_t lease = 0;   // the lease the request was about
};

RegistrationWorker::RegistrationWorker(RegistrationConfig config, RegistrationSources sources)
    : config_(std::move(config)),
      sources_(std::move(sources)),
      key_(config_.prefix + "/nodes/" + sources_.node_id),
      backoff_(std::chrono::milliseconds(200),
               std::max<Duration>(std::chrono::seconds(1), config_.ttl / 3)),
      watch_(config_.watch) {}

InitResult RegistrationWorker::init(Process& self) {
  client_ = std::make_shared<EtcdClient>(
      self.runtime().io(), EtcdClientOptions{config_.endpoints, request_timeout(config_.ttl)});
  // Where it starts, not a change: neither logged nor counted.
  state_ = "deregistered";
  if (sources_.status)
    sources_.status->set({state_, "not registered yet", key_, std::chrono::system_clock::now()});
  self.send_after(Duration::zero(), Tick{});
  return InitResult::ok();
}

template <class T>
std::function<void(Result<T>)> RegistrationWorker::to_mailbox(Process& self, int kind) {
  in_flight_ = true;
  // Weak: the process owns the client that owns this callback.
  return [&rt = self.runtime(), weak = std::weak_ptr<Process>(self.pid().shared()), kind,
          lease = lease_](Result<T> r) {
    auto p = weak.lock();
    if (!p) return;
    Reply reply{kind, std::nullopt, 0, lease};
    if (r.ok())
      reply.number = number_of(r.value());
    else
      reply.error = r.take_error();
    rt.send(Pid(p), std::move(reply));
  };
}

void RegistrationWorker::handle(Process& self, Message& m) {
  if (std::any_cast<Tick>(&m)) {
    evaluate(self);
    act(self);
    self.send_after(kTick, Tick{});
    return;
  }
  if (auto* r = std::any_cast<Reply>(&m)) {
    on_reply(self, *r);
    act(self);  // the next step at once, not at the next tick
    return;
  }
  unexpected(self, m);
}

// Should the node be listed? Watched subtrees in trouble: no, at once.
// Readiness failing for deregister_after: no. Fit for reregister_after (or
// fit at all, before the first registration): yes.
void RegistrationWorker::evaluate(Process& self) {
  const TimePoint now = self.clock().now();
  const auto root = self.runtime().registry().whereis(sources_.root_name);
  const std::optional<std::string> subtree =
      root ? watch_.check(*root, now) : std::optional<std::string>("the tree is not running");
  const ReadinessVerdict verdict =
      sources_.readiness ? sources_.readiness() : ReadinessVerdict{true, ""};
  if (verdict.ready) {
    unready_since_.reset();
  } else if (!unready_since_) {
    unready_since_ = now;
  }
  const bool fit = verdict.ready && !subtree;
  if (!fit) {
    fit_since_.reset();
  } else if (!fit_since_) {
    fit_since_ = now;
  }
  if (wanted_) {
    if (subtree) {
      wanted_ = false;
      unfit_reason_ = *subtree;
    } else if (unready_since_ && now - *unready_since_ >= config_.deregister_after) {
      wanted_ = false;
      unfit_reason_ = not_ready(verdict);
    }
  } else if (fit && (!ever_registered_ || now - *fit_since_ >= config_.reregister_after)) {
    wanted_ = true;
  } else if (!fit) {
    unfit_reason_ = subtree ? *subtree : not_ready(verdict);
  }
}

void RegistrationWorker::act(Process& self) {
  const TimePoint now = self.clock().now();
  if (lease_ != 0 && now >= lease_expires_) {
    // Not kept alive for a whole TTL (etcd unreachable): etcd has dropped it.
    lease_ = 0;
    key_put_ = false;
  }
  // Nothing held in etcd and nothing wanted: deregistered, whether by revoke,
  // by the lease running out, or because the node never was fit.
  if (!wanted_ && lease_ == 0 && state_ != "deregistered") publish("deregistered", unfit_reason_);
  if (in_flight_ || now < retry_at_) return;
  if (!wanted_) {
    if (lease_ != 0) client_->revoke(lease_, to_mailbox<Ok>(self, kRevoke));
    return;
  }
  if (lease_ == 0) return client_->grant(config_.ttl, to_mailbox<EtcdLease>(self, kGrant));
  const std::string value = value_json();
  if (value.empty()) return;  // the address is not known yet
  // A changed value (the device count) goes out after a keepalive, not at once:
  // at most one extra put per ttl/3, however often devices come and go.
  const bool refresh = refresh_value_ && value != value_put_;
  refresh_value_ = false;
  if (!key_put_ || refresh) {
    value_put_ = value;
    return client_->put(key_, value, lease_, to_mailbox<Ok>(self, kPut));
  }
  if (now >= next_keepalive_)
    client_->keepalive(lease_, to_mailbox<std::int64_t>(self, kKeepalive));
}

void RegistrationWorker::on_reply(Process& self, Reply& r) {
  in_flight_ = false;
  if (r.error) {
    if (r.error->code == "etcd.lease_not_found") {
      // etcd forgot the lease (it expired while we could not reach etcd, or
      // etcd lost its data): nothing to revoke, a fresh one to grant.
      spdlog::warn("registration key={} event=lease_lost lease={}: {}", key_, r.lease,
                   r.error->message);
      if (r.lease == lease_) {
        lease_ = 0;
        key_put_ = false;
      }
      return;
    }
    return failed(self, *r.error, kWhat[r.kind]);
  }
  backoff_.reset();
  const TimePoint now = self.clock().now();
  switch (r.kind) {
    case kGrant:
      lease_ = r.number;
      key_put_ = false;
      lease_expires_ = now + config_.ttl;
      next_keepalive_ = now + config_.ttl / 3;
      return;
    case kPut:
      key_put_ = true;
      if (wanted_) {
        publish("registered", "lease " + std::to_string(lease_) + ", ttl " +
                                  std::to_string(config_.ttl.count()) + " s");
        ever_registered_ = true;
      }
      return;
    case kKeepalive:
      lease_expires_ = now + std::chrono::seconds(r.number);
      next_keepalive_ = now + config_.ttl / 3;
      refresh_value_ = true;
      if (state_ != "registered" && key_put_ && wanted_)
        publish("registered", "lease " + std::to_string(lease_) + " kept alive again");
      return;
    case kRevoke:
      if (r.lease == lease_) {
        lease_ = 0;
        key_put_ = false;
      }
      publish("deregistered", unfit_reason_);
      return;
  }
}

void RegistrationWorker::failed(Process& self, const Error& e, const char* what) {
  ++sources_.counters->etcd_errors;
  const Duration delay = backoff_.next();
  retry_at_ = self.clock().now() + delay;
  if (state_ != "unreachable") {
    spdlog::warn("registration key={} event=etcd_error request=\"{}\" retry_in_ms={}: {}", key_,
                 what, std::chrono::duration_cast<std::chrono::milliseconds>(delay).count(),
                 e.describe());
  }
  std::string reason = std::string(what) + ": " + e.message;
  if (lease_ != 0) reason += " (the lease expires by itself unless kept alive)";
  publish("unreachable", reason);
}

void RegistrationWorker::publish(const std::string& state, const std::string& reason) {
  if (state == state_) return;
  state_ = state;
  if (state == "registered") {
    ++sources_.counters->registered;
    spdlog::info("registration key={} event=registered endpoint={} value={}", key_,
                 client_->preferred_endpoint(), value_put_);
  } else if (state == "deregistered") {
    ++sources_.counters->deregistered;
    spdlog::warn("registration key={} event=deregistered reason=\"{}\"", key_, reason);
  } else {
    ++sources_.counters->unreachable;
    spdlog::warn("registration key={} event=unreachable reason=\"{}\"", key_, reason);
  }
  if (sources_.status)
    sources_.status->set({state, reason, key_, std::chrono::system_clock::now()});
}

std::string RegistrationWorker::value_json() const {
  const std::string address =
      config_.advertise.empty() && sources_.advertise ? sources_.advertise() : config_.advertise;
  if (address.empty()) return {};
  const nlohmann::json v = {{"id", sources_.node_id},
                            {"address", address},
                            {"health_url", "http://" + address + "/health"},
                            {"version", std::string(edgepoll::kVersion)},
                            {"devices", sources_.device_count ? sources_.device_count() : 0}};
  return v.dump();
}

void RegistrationWorker::terminate(Process& self, const ExitReason&) {
  if (lease_ == 0 || !client_) return;
  // Stopping: revoke without waiting (terminate must not block the loop). The
  // request keeps the client alive until it is answered or times out; if the
  // daemon is gone before that, the lease expires by itself.
  auto client = client_;
  auto& io = self.runtime().io();
  spdlog::info("registration key={} event=deregistering reason=\"stopping\"", key_);
  client->revoke(lease_, [client, &io](Status) { boost::asio::post(io, [client] {}); });
  if (sources_.status)
    sources_.status->set({"deregistered", "stopping", key_, std::chrono::system_clock::now()});
}

void RegistrationWorker::describe(nlohmann::json& out) const {
  if (!sources_.status) return;
  const auto s = sources_.status->get();
  out["registration"] = {{"state", s.state}, {"key", s.key}, {"reason", s.reason}};
}

ChildSpec registration_child(RegistrationConfig config, RegistrationSources sources) {
  return worker_child(
      "registration", [config, sources](const ChildStart&) -> Result<std::shared_ptr<Behaviour>> {
        return std::shared_ptr<Behaviour>(std::make_shared<RegistrationWorker>(config, sources));
      });
}

}  // namespace edgepoll::appliance
