#pragma once
// Real SNMP agents for the tests: snmpd (Debian's) on a free loopback UDP port
// with a generated config (a v2c community and v3 users of several protocols,
// in a persistent dir of its own), and tests/pollers/snmp/fake_agent.py for the
// agents that misbehave (tooBig, late, garbage, answers from the wrong port).
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/child_process.hpp"
#include "support/free_port.hpp"
#include "support/wait_for.hpp"

namespace edgepoll::testing {

class ScratchDir {
 public:
  ScratchDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("edgepoll-snmp-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  // Writes `content` to `name` in the directory; returns its path.
  std::string write(const std::string& name, const std::string& content) const {
    const auto p = path_ / name;
    std::ofstream(p) << content;
    return p.string();
  }

 private:
  std::filesystem::path path_;
};

// v3 users of the generated snmpd config: name, auth protocol, priv protocol
// (empty: authNoPriv). Passphrases are kAuthPass / kPrivPass.
struct SnmpdUser {
  const char* name;
  const char* auth;
  const char* priv;
};
inline constexpr SnmpdUser kSnmpdUsers[] = {
    {"sha-aes", "SHA", "AES"},         {"sha256-auth", "SHA-256", ""}, {"md5-des", "MD5", "DES"},
    {"sha512-aes256", "SHA-512", "AES-256"}, {"sha224-auth", "SHA-224", ""}, {"sha384-aes192", "SHA-384", "AES-192"},
};
inline constexpr const char* kCommunity = "edgepoll-ro";
inline constexpr const char* kAuthPass = "auth-passphrase-1";
inline constexpr const char* kPrivPass = "priv-passphrase-1";

class Snmpd {
 public:
  Snmpd() : port_(free_udp_port()) {
    std::string conf = "[snmp] persistentDir " + (dir_.path() / "persist").string() + "\n";
    conf += std::string("rocommunity ") + kCommunity + " 127.0.0.1\n";
    for (const auto& u : kSnmpdUsers) {
      conf += std::string("createUser ") + u.name + " " + u.auth + " \"" + kAuthPass + "\"";
      if (*u.priv) conf += std::string(" ") + u.priv + " \"" + kPrivPass + "\"";
      conf += std::string("\nrouser ") + u.name + (*u.priv ? " priv\n" : " auth\n");
    }
    const auto path = dir_.write("snmpd.conf", conf);
    process_ = std::make_unique<ChildProcess>(
        "/usr/sbin/snmpd", std::vector<std::string>{"-f", "-Lo", "-C", "-c", path,
                                                    "udp:127.0.0.1:" + std::to_string(port_)});
    if (!process_->wait_for_line([](const std::string& l) { return l.find("NET-SNMP version") != std::string::npos; },
                                 std::chrono::seconds(20)))
      throw std::runtime_error("snmpd did not start");
  }
  std::uint16_t port() const { return port_; }
  const ScratchDir& dir() const { return dir_; }

 private:
  ScratchDir dir_;
  std::uint16_t port_;
  std::unique_ptr<ChildProcess> process_;
};

// fake_agent.py in `mode` (see the script); its port is the one it printed.
class FakeAgent {
 public:
  explicit FakeAgent(const std::string& mode, const std::string& arg = "") {
    std::vector<std::string> args{SNMP_TEST_DIR "/fake_agent.py", mode};
    if (!arg.empty()) args.push_back(arg);
    process_ = std::make_unique<ChildProcess>("/usr/bin/python3", args);
    auto line = process_->wait_for_line([](const std::string& l) { return l.rfind("PORT ", 0) == 0; },
                                        std::chrono::seconds(20));
    if (!line) throw std::runtime_error("fake_agent.py did not start");
    port_ = static_cast<std::uint16_t>(std::stoi(line->substr(5)));
  }
  std::uint16_t port() const { return port_; }
  // The OID counts of the GETs it was sent, in order, once at least
  // `at_least` were logged: the agent logs each GET before it answers, but the
  // line may still be on its way through the pipe when the answer arrived.
  std::vector<int> gets(std::size_t at_least) const {
    auto counts = [this] {
      std::vector<int> out;
      for (const auto& l : process_->lines())
        if (l.rfind("GET ", 0) == 0) out.push_back(std::stoi(l.substr(4)));
      return out;
    };
    (void)wait_for([&] { return counts().size() >= at_least; }, std::chrono::seconds(5));
    return counts();
  }

 private:
  std::unique_ptr<ChildProcess> process_;
  std::uint16_t port_ = 0;
};

// Runs `io` until `done` is true or `limit` passes; true when done.
template <class Pred>
bool run_until(boost::asio::io_context& io, Pred done, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  io.restart();
  while (!done() && std::chrono::steady_clock::now() < deadline) io.run_for(std::chrono::milliseconds(20));
  return done();
}

}  // namespace edgepoll::testing
