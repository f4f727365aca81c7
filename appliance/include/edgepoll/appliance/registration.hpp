#pragma once
// The registration worker, under `health` after the endpoint: holds
// <prefix>/nodes/<node id> in etcd under a lease while the node is fit for work,
// so that service discovery lists exactly the nodes it may send work to.
//
//   registered   the key exists; keepalive every ttl/3; the value is refreshed
//                when the device count changes
//   deregistered the lease was revoked (readiness failed for deregister_after,
//                or a watched subtree is down or restarting too often), or not
//                registered yet; registers again once readiness held for
//                reregister_after (the first time: as soon as it holds)
//   unreachable  etcd did not answer; retries with full-jitter backoff. A lease
//                not kept alive expires by itself, as it does when the process dies.
//
// etcd never harms polling: every request is asynchronous on the event loop
// (EtcdClient), and readiness never depends on registration. Each change of
// state is logged once, counted and published in RegistrationStatus (/ready).
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "edgepoll/appliance/etcd_client.hpp"
#include "edgepoll/appliance/readiness_probe.hpp"
#include "edgepoll/appliance/registration_config.hpp"
#include "edgepoll/appliance/registration_status.hpp"
#include "edgepoll/supervision/backoff.hpp"
#include "edgepoll/supervision/child_spec.hpp"
#include "edgepoll/supervision/process.hpp"

namespace edgepoll::appliance {

struct RegistrationCounters {
  std::atomic<std::uint64_t> registered{0};    // entered "registered"
  std::atomic<std::uint64_t> deregistered{0};  // entered "deregistered" (revoked or lease given up)
  std::atomic<std::uint64_t> unreachable{0};   // entered "unreachable"
  std::atomic<std::uint64_t> etcd_errors{0};   // failed etcd requests
};

// Is a watched subtree fit? Down (not running), or its supervisor restarted
// children `max_restarts` times within `window` (the subtree being replaced by
// its parent counts as one restart too).
class SubtreeWatch {
 public:
  SubtreeWatch(std::vector<std::string> paths, unsigned max_restarts = 3,
               supervision::Duration window = std::chrono::seconds(30));
  // The first problem in words ("root/deps is not running"), or nullopt.
  std::optional<std::string> check(const supervision::Pid& root, supervision::TimePoint now);

 private:
  struct Watched {
    std::string path;
    std::uint64_t pid = 0;                         // the process last seen at `path`
    std::size_t last_seen = 0;                     // its restarts_in_window() last time
    std::vector<supervision::TimePoint> restarts;  // seen by us, within window
  };
  std::vector<Watched> watched_;
  unsigned max_restarts_;
  supervision::Duration window_;
};

struct RegistrationSources {
  std::string node_id;
  ReadinessProbe readiness;
  std::shared_ptr<RegistrationStatus> status;
  std::shared_ptr<RegistrationCounters> counters;
  // The address others should use (host:port); "" while unknown (no key is put then).
  std::function<std::string()> advertise;
  // Devices this node polls now, for the key's value.
  std::function<std::size_t()> device_count;
  std::string root_name = "root";  // registry name of the tree's root, for `watch`
};

class RegistrationWorker final : public supervision::Behaviour {
 public:
  RegistrationWorker(RegistrationConfig config, RegistrationSources sources);
  supervision::InitResult init(supervision::Process& self) override;
  void handle(supervision::Process& self, supervision::Message& message) override;
  void terminate(supervision::Process& self, const supervision::ExitReason& reason) override;
  void describe(nlohmann::json& out) const override;

  // A request to etcd is out (tests drive the loop until it is answered).
  bool waiting_for_etcd() const { return in_flight_; }

  static constexpr supervision::Duration kTick = std::chrono::milliseconds(250);

 private:
  struct Tick {};
  struct Reply;  // an etcd answer, delivered through the mailbox

  void evaluate(supervision::Process& self);
  void act(supervision::Process& self);
  void on_reply(supervision::Process& self, Reply& reply);
  void failed(supervision::Process& self, const Error& error, const char* what);
  void publish(const std::string& state, const std::string& reason);
  std::string value_json() const;
  template <class T>
  std::function<void(Result<T>)> to_mailbox(supervision::Process& self, int kind);

  RegistrationConfig config_;
  RegistrationSources sources_;
  std::string key_;
  std::shared_ptr<EtcdClient> client_;
  supervision::FullJitterBackoff backoff_;
  SubtreeWatch watch_;

  // What the node's health asks for.
  bool wanted_ = false;
  bool ever_registered_ = false;
  std::string unfit_reason_;
  std::optional<supervision::TimePoint> unready_since_;
  std::optional<supervision::TimePoint> fit_since_;

  // What etcd holds.
  std::int64_t lease_ = 0;
  bool key_put_ = false;
  std::string value_put_;
  bool refresh_value_ = false;  // a keepalive just succeeded: the value may be put again
  supervision::TimePoint next_keepalive_{};
  supervision::TimePoint lease_expires_{};  // by our count, from the last good keepalive
  supervision::TimePoint retry_at_{};       // backing off until then
  bool in_flight_ = false;
  std::string state_;  // as published
};

supervision::ChildSpec registration_child(RegistrationConfig config, RegistrationSources sources);

}  // namespace edgepoll::appliance
