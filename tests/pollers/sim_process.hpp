#pragma once
// Starts tools/device-sim as a child process on a random port for a test and
// stops it afterwards. The simulator prints `listening=<host:port>` first.
#include <stdexcept>
#include <string>
#include <vector>

#include "support/child_process.hpp"

namespace edgepoll::pollers::testing {

class SimProcess {
 public:
  explicit SimProcess(std::vector<std::string> args) : process_(DEVICE_SIM_PATH, std::move(args)) {
    auto line = process_.wait_for_line([](const std::string& l) { return l.rfind("listening=", 0) == 0; },
                                       std::chrono::seconds(10));
    if (!line) throw std::runtime_error("device-sim printed no listening= line");
    address_ = line->substr(10);
  }

  const std::string& address() const { return address_; }
  std::string url(const std::string& device) const { return "http://" + address_ + "/devices/" + device; }
  // Still running? (the simulator must survive every client behaviour)
  bool alive() { return process_.running(); }

 private:
  edgepoll::testing::ChildProcess process_;
  std::string address_;
};

}  // namespace edgepoll::pollers::testing
