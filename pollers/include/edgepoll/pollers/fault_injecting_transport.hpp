#pragma once
// A Transport in front of the real one that makes a device's connection fail
// while the FaultSwitch says so (seam "device", target the device id): the
// request never leaves, and its callback gets the error a reset connection
// gives (pollers.http.reset), on the event loop, after fetch() returned, as
// the real fetcher answers. The daemon puts it in front of HttpTransport only
// with [chaos] enabled, so production polls never pass through it.
#include <memory>
#include <mutex>
#include <unordered_map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "edgepoll/pollers/poller_context.hpp"
#include "edgepoll/supervision/fault_switch.hpp"

namespace edgepoll::pollers {

class FaultInjectingTransport final : public Transport {
 public:
  FaultInjectingTransport(boost::asio::io_context& io, std::shared_ptr<Transport> inner,
                          std::shared_ptr<const supervision::FaultSwitch> faults)
      : io_(io), inner_(std::move(inner)), faults_(std::move(faults)) {}

  RequestId fetch(const FetchRequest& request, FetchCallback done) override {
    auto fault = faults_->active("device", request.device_id, std::chrono::steady_clock::now());
    if (!fault) return inner_->fetch(request, std::move(done));
    RequestId id = 0;
    {
      std::lock_guard lock(mutex_);
      id = next_id_++;
      failing_[id] = std::move(done);
    }
    fault->message = "device \"" + request.device_id + "\": GET " + request.url + ": " + fault->message;
    boost::asio::post(io_, [this, id, e = std::move(*fault)] {
      FetchCallback cb;
      {
        std::lock_guard lock(mutex_);
        auto it = failing_.find(id);
        if (it == failing_.end()) return;  // cancelled
        cb = std::move(it->second);
        failing_.erase(it);
      }
      cb(Result<FetchResponse>(e));
    });
    return id;
  }
  void cancel(RequestId id) override {
    {
      std::lock_guard lock(mutex_);
      if (failing_.erase(id) > 0) return;
    }
    inner_->cancel(id);
  }

 private:
  // Ids of failed requests live far above the fetcher's own, so cancel() tells them apart.
  static constexpr RequestId kFirstId = RequestId(1) << 62;
  boost::asio::io_context& io_;
  std::shared_ptr<Transport> inner_;
  std::shared_ptr<const supervision::FaultSwitch> faults_;
  std::mutex mutex_;
  RequestId next_id_ = kFirstId;
  std::unordered_map<RequestId, FetchCallback> failing_;
};

}  // namespace edgepoll::pollers
