#pragma once
// Helpers of the system tests: temp dirs, starting the peers, reading the
// daemon's endpoints and its store, and systemd's notify socket.
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <nlohmann/json.hpp>

#include "support/child_process.hpp"
#include "support/http_get.hpp"

namespace edgepoll::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/edgepoll-system-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
  fs::path path;
};

inline std::string first_line_after(ChildProcess& p, const std::string& prefix, std::chrono::milliseconds limit,
                                    const char* what) {
  auto line = p.wait_for_line([&](const std::string& l) { return l.rfind(prefix, 0) == 0; }, limit);
  if (!line) throw std::runtime_error(std::string(what) + " did not start");
  return line->substr(prefix.size());
}
inline std::string start_sim(ChildProcess& sim) { return first_line_after(sim, "listening=", 10s, "device-sim"); }
inline std::string start_kafka(ChildProcess& kafka) { return first_line_after(kafka, "bootstrap=", 20s, "kafka-sandbox"); }

inline unsigned short health_port(ChildProcess& daemon) {
  static const std::regex re("listening on http://127\\.0\\.0\\.1:(\\d+)/");
  std::smatch m;
  auto line = daemon.wait_for_line([&](const std::string& l) { return std::regex_search(l, m, re); }, 20s);
  if (!line) return 0;
  std::regex_search(*line, m, re);
  return static_cast<unsigned short>(std::stoi(m[1]));
}

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

// Polls `cond` until it holds or `limit` passes; the last value of cond.
template <class Cond>
bool eventually(Cond cond, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(100ms);  // between polls of a condition, not in place of one
  }
  return cond();
}

// Rows of a query against the store, read while the daemon runs (WAL allows it).
inline std::vector<std::vector<std::string>> query(const fs::path& db, const std::string& sql) {
  std::vector<std::vector<std::string>> rows;
  sqlite3* h = nullptr;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(h, 2000);
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr) == SQLITE_OK) {
      while (sqlite3_step(st) == SQLITE_ROW) {
        std::vector<std::string> row;
        for (int i = 0; i < sqlite3_column_count(st); ++i) {
          const auto* text = sqlite3_column_text(st, i);
          row.emplace_back(text ? reinterpret_cast<const char*>(text) : "");
        }
        rows.push_back(std::move(row));
      }
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(h);
  return rows;
}
inline std::int64_t query_count(const fs::path& db, const std::string& sql) {
  auto rows = query(db, sql);
  return rows.empty() ? -1 : std::stoll(rows[0][0]);
}

// A config with `ids` polled every second from the simulator, plus `extra` TOML.
inline void write_config(const fs::path& file, const fs::path& db, const std::string& sim,
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

}  // namespace edgepoll::testing
