#pragma once
// Shared by the pollers tree tests: a scripted transport, a counting sink and
// a recording quarantine log, all on the test's single-threaded loop.
#include <map>
#include <set>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "edgepoll/pollers/pollers_tree.hpp"

namespace edgepoll::pollers {
using namespace std::chrono_literals;

// Answers every request on the next turn of the loop (never inside fetch()),
// per device: a JSON body, garbage, or a transport error.
class ScriptedTransport final : public Transport {
 public:
  explicit ScriptedTransport(boost::asio::io_context& io) : io_(io) {}
  enum class Mode { good, garbage, refused };
  std::map<std::string, Mode> modes;  // by device id; default good
  std::map<std::string, int> requests;

  RequestId fetch(const FetchRequest& request, FetchCallback done) override {
    requests[request.device_id]++;
    const Mode mode = modes.count(request.device_id) ? modes[request.device_id] : Mode::good;
    boost::asio::post(io_, [mode, done = std::move(done)] {
      if (mode == Mode::refused) return done(make_error("pollers.fetch.refused", "connection refused", true));
      done(FetchResponse{200, mode == Mode::good ? R"({"temp": 21.5})" : "\xff\xfe{garbage", 5ms});
    });
    return ++next_;
  }
  void cancel(RequestId) override {}

 private:
  boost::asio::io_context& io_;
  RequestId next_ = 0;
};

// The Modbus side: answers each read on the next turn of the loop, per unit id
// with registers, an exception, or a timeout error.
class ScriptedModbusTransport final : public ModbusTransport {
 public:
  explicit ScriptedModbusTransport(boost::asio::io_context& io) : io_(io) {}
  enum class Mode { good, exception, timeout };
  std::map<std::uint8_t, Mode> modes;  // by unit id; default good
  std::map<std::uint8_t, int> reads;

  GatewayId gateway(const std::string&, std::uint16_t, unsigned) override { return 0; }
  ModbusRequestId read(GatewayId, const ModbusRead& read, ModbusCallback done) override {
    reads[read.unit]++;
    const Mode mode = modes.count(read.unit) ? modes[read.unit] : Mode::good;
    boost::asio::post(io_, [mode, count = read.count, done = std::move(done)] {
      if (mode == Mode::exception) return done(make_error("pollers.modbus.illegal_data_address", "exception 2"));
      if (mode == Mode::timeout) return done(make_error("pollers.modbus.timeout", "no answer", true));
      done(ModbusReply{std::vector<std::uint16_t>(count, 215), 3ms});
    });
    return ++next_;
  }
  void cancel(ModbusRequestId) override {}

 private:
  boost::asio::io_context& io_;
  ModbusRequestId next_ = 0;
};

class CountingSink final : public ReadingSink {
 public:
  void submit(DeviceReadings r) override { polls[r.device_id]++; }
  std::map<std::string, int> polls;
};

class RecordingQuarantine final : public QuarantineLog {
 public:
  void quarantined(const std::string& id, std::chrono::system_clock::time_point until, const std::string&) override {
    delays.push_back(until - std::chrono::system_clock::now());
    ids.insert(id);
  }
  void released(const std::string&) override {}
  std::vector<std::chrono::system_clock::duration> delays;
  std::set<std::string> ids;
};

inline DeviceConfig device(const std::string& id, Duration interval = 1s) {
  DeviceConfig c;
  c.id = id;
  c.url = "http://127.0.0.1:1/devices/" + id;
  c.interval = interval;
  c.timeout = 500ms;
  c.metrics = {MetricMapping{"/temp", "temp", MetricType::number, "degC"}};
  return c;
}

inline DeviceConfig modbus_device(const std::string& id, std::uint8_t unit, Duration interval = 1s) {
  DeviceConfig c;
  c.id = id;
  c.protocol = Protocol::modbus;
  c.interval = interval;
  c.timeout = 500ms;
  ModbusDeviceConfig m;
  m.host = "127.0.0.1";
  m.port = 1502;
  m.unit_id = unit;
  ModbusField f;
  f.name = "temp";
  f.scale = 0.1;
  f.unit = "degC";
  m.fields = {f};
  c.modbus = m;
  return c;
}

}  // namespace edgepoll::pollers
