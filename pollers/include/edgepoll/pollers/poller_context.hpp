#pragma once
// What every device subtree shares: the transport, where readings go, and the
// per-device counters /metrics reads. One instance per pollers subtree.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "edgepoll/pollers/decoder.hpp"
#include "edgepoll/pollers/device_activity.hpp"
#include "edgepoll/pollers/http_fetcher.hpp"
#include "edgepoll/pollers/modbus/modbus_transport.hpp"
#include "edgepoll/pollers/snmp/snmp_agent.hpp"
#include "edgepoll/supervision/clock.hpp"

namespace edgepoll::pollers {

// One poll's worth of readings from one device.
struct DeviceReadings {
  std::string device_id;
  std::chrono::system_clock::time_point taken_at;  // wall clock: readings leave the node
  std::vector<Reading> readings;
};

// Where decoded readings go (the storage writer, in the appliance). Called on
// the event loop; must not block: it queues and returns.
class ReadingSink {
 public:
  virtual ~ReadingSink() = default;
  virtual void submit(DeviceReadings readings) = 0;
};

// Issues a device request. The daemon runs its event loop on one thread, which
// is where HttpFetcher requires to be called from; tests swap in a fake.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual RequestId fetch(const FetchRequest& request, FetchCallback done) = 0;
  virtual void cancel(RequestId id) = 0;
};

class HttpTransport final : public Transport {
 public:
  explicit HttpTransport(boost::asio::io_context& io, FetcherOptions options = {}) : fetcher_(io, options) {}
  RequestId fetch(const FetchRequest& request, FetchCallback done) override {
    return fetcher_.fetch(request, std::move(done));
  }
  void cancel(RequestId id) override { fetcher_.cancel(id); }
  const FetcherStats& stats() const { return fetcher_.stats(); }

 private:
  HttpFetcher fetcher_;
};

struct PollerCounters {
  std::atomic<std::uint64_t> polls{0};
  std::atomic<std::uint64_t> poll_failures{0};
  std::atomic<std::uint64_t> decode_failures{0};
  std::atomic<std::uint64_t> field_errors{0};
  std::atomic<std::uint64_t> readings{0};
  std::atomic<std::uint64_t> skipped_busy{0};   // a tick found the previous poll still running
  std::atomic<std::uint64_t> skipped_open{0};   // the breaker held a tick back
  std::atomic<std::uint64_t> shed_late{0};      // the tick came > half an interval late
  std::atomic<std::uint64_t> quarantines{0};
  std::atomic<std::uint64_t> device_restarts{0};
};

struct PollerContext {
  Transport* transport = nullptr;
  ModbusTransport* modbus = nullptr;  // devices with protocol = "modbus"
  SnmpTransport* snmp = nullptr;      // devices with protocol = "snmp"
  ReadingSink* sink = nullptr;
  std::shared_ptr<PollerCounters> counters = std::make_shared<PollerCounters>();
  // Which devices exist and when each last polled well (readiness, gauges).
  std::shared_ptr<DeviceActivity> activity = std::make_shared<DeviceActivity>();
  // Consecutive failed polls (transport) or undecodable bodies after which the
  // process gives up and lets its supervisor count a restart: a device that
  // keeps failing is quarantined by structure, not by special cases.
  unsigned max_consecutive_failures = 3;
};

}  // namespace edgepoll::pollers
