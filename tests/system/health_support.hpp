#pragma once
// What the health system tests add to system_support.hpp: a GET with a probe's
// timeout, polling a condition with a deadline, a config with extra sections,
// systemd's notify socket, and the daemon's test hooks.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "system_support.hpp"

namespace edgepoll::system_test {
using testing::HttpResult;

// A GET that gives up after `timeout` (status 0), as a liveness probe does.
inline HttpResult http_get_within(unsigned short port, const std::string& target, std::chrono::milliseconds timeout) {
  namespace asio = boost::asio;
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  std::string raw;
  const std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  std::array<char, 8192> buf{};
  std::function<void(boost::system::error_code, std::size_t)> on_read = [&](boost::system::error_code ec, std::size_t n) {
    raw.append(buf.data(), n);
    if (!ec) s.async_read_some(asio::buffer(buf), on_read);
  };
  s.async_connect({asio::ip::make_address("127.0.0.1"), port}, [&](boost::system::error_code ec) {
    if (ec) return;
    asio::async_write(s, asio::buffer(req), [&](boost::system::error_code wec, std::size_t) {
      if (!wec) s.async_read_some(asio::buffer(buf), on_read);
    });
  });
  io.run_for(timeout);
  HttpResult r;
  if (!io.stopped() || raw.size() < 12) return r;  // still waiting when the time was up
  r.status = std::stoi(raw.substr(9, 3));
  const auto body = raw.find("\r\n\r\n");
  if (body != std::string::npos) r.body = raw.substr(body + 4);
  return r;
}

inline nlohmann::json get_json_any_status(unsigned short port, const std::string& target, int* status = nullptr) {
  auto r = http_get("127.0.0.1", port, target);
  if (status) *status = r.status;
  return nlohmann::json::parse(r.body, nullptr, false);
}

using testing::eventually;

// A config with `ids` polled every second from the simulator, plus `extra` TOML.
inline void write_health_config(const fs::path& file, const fs::path& db, const std::string& sim,
                         const std::vector<std::string>& ids, const std::string& extra = "") {
  std::ofstream out(file);
  out << "[storage]\npath = \"" << db.string() << "\"\n" << extra << "\n"
      << "[pollers]\nbackoff_base = \"10m\"\nbackoff_cap = \"1h\"\n\n";
  for (const auto& id : ids) {
    out << "[[device]]\nid = \"" << id << "\"\nurl = \"http://" << sim << "/devices/" << id << "\"\n"
        << "interval = \"1s\"\ntimeout = \"500ms\"\n"
        << "metrics = [ { pointer = \"/temperature\", name = \"temperature\", type = \"float\" } ]\n\n";
  }
}

// systemd's side of sd_notify: a unix datagram socket; NOTIFY_SOCKET names it
// in the environment of the processes started while this object lives.
class NotifySocket {
 public:
  NotifySocket(const fs::path& path, std::chrono::microseconds watchdog = {}) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("cannot bind " + path.string());
    timeval tv{0, 100000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setenv("NOTIFY_SOCKET", path.c_str(), 1);
    if (watchdog.count() > 0) setenv("WATCHDOG_USEC", std::to_string(watchdog.count()).c_str(), 1);
    reader_ = std::thread([this] {
      char buf[4096];
      while (!stop_) {
        const auto n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) continue;
        std::lock_guard lock(mutex_);
        std::string msg(buf, static_cast<std::size_t>(n));
        std::size_t at = 0;
        while (at <= msg.size()) {  // one datagram may carry several lines
          const auto nl = msg.find('\n', at);
          const auto line = msg.substr(at, nl == std::string::npos ? std::string::npos : nl - at);
          if (!line.empty()) messages_.push_back({std::chrono::steady_clock::now(), line});
          if (nl == std::string::npos) break;
          at = nl + 1;
        }
      }
    });
  }
  ~NotifySocket() {
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    stop_ = true;
    reader_.join();
    ::close(fd_);
    fs::remove(path_);
  }
  struct Seen {
    std::chrono::steady_clock::time_point at;
    std::string line;
  };
  std::vector<Seen> messages() const {
    std::lock_guard lock(mutex_);
    return messages_;
  }
  std::size_t count(const std::string& line) const {
    std::size_t n = 0;
    for (const auto& m : messages()) n += m.line == line ? 1 : 0;
    return n;
  }
  std::vector<std::string> starting_with(const std::string& prefix) const {
    std::vector<std::string> out;
    for (const auto& m : messages())
      if (m.line.rfind(prefix, 0) == 0) out.push_back(m.line);
    return out;
  }
  // When `line` was last seen, if ever.
  std::optional<std::chrono::steady_clock::time_point> last(const std::string& line) const {
    std::optional<std::chrono::steady_clock::time_point> at;
    for (const auto& m : messages())
      if (m.line == line) at = m.at;
    return at;
  }

 private:
  fs::path path_;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::vector<Seen> messages_;
  std::thread reader_;
};

// Asks the daemon (started with EDGEPOLL_TEST_HOOKS=hooks) to act on `line`.
inline void test_hook(ChildProcess& daemon, const fs::path& hooks, const std::string& line) {
  std::ofstream(hooks) << line << "\n";
  ::kill(daemon.pid(), SIGUSR1);
}

}  // namespace edgepoll::system_test
