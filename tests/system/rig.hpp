#pragma once
// A whole appliance under live traffic for the chaos and soak suites: the
// Kafka sandbox, device-sim with good and misbehaving devices, etcd, and
// edgepolld with [chaos], [kafka] and [registration], all on loopback in a
// temp dir. A kcat consumer reads the readings topic *while* the run goes
// (the sandbox trims old records on long runs), and the outbox's own
// device_state says which (device, seq) were ever stored, so that a lost
// reading is a reading stored and never consumed.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/child_process.hpp"
#include "support/etcd_server.hpp"
#include "support/http_get.hpp"

#include "daemon_process.hpp"

namespace edgepoll::system_test {

using testing::ChildProcess;

struct RigOptions {
  std::vector<std::string> good;  // device ids answering normally
  std::map<std::string, std::string> bad;  // device id -> device-sim behaviour
  std::size_t max_in_flight = 50;   // the producer's in-flight window: duplicates per kill are at most this
  std::string backoff_base = "1s";  // the config manager's retry of a dead device
  bool registration = true;
  std::string node_id = "chaos-node";
  std::string interval = "1s";      // every device's poll interval
};

// One JSON line over a unix socket, the answer line back (an empty object when none).
inline nlohmann::json unix_request(const std::string& socket_path, const std::string& line) {
  const int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket_path.c_str());
  if (s < 0 || ::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (s >= 0) ::close(s);
    return nlohmann::json::object();
  }
  const std::string bytes = line + "\n";
  (void)!::write(s, bytes.data(), bytes.size());
  timeval tv{15, 0};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string answer;
  char buf[65536];
  for (ssize_t n; answer.find('\n') == std::string::npos && (n = ::read(s, buf, sizeof buf)) > 0;) answer.append(buf, n);
  ::close(s);
  auto j = nlohmann::json::parse(answer, nullptr, false);
  return j.is_object() ? j : nlohmann::json::object();
}

class Rig {
 public:
  using Stored = std::map<std::string, std::int64_t>;  // device -> last_seq: readings 1..last_seq stored

  explicit Rig(RigOptions o) : options_(std::move(o)) {
    std::vector<std::string> sim_args{"--listen", "127.0.0.1:0"};
    for (const auto& [id, behaviour] : options_.bad) {
      sim_args.push_back("--device");
      sim_args.push_back(id + "=" + behaviour);
    }
    sim_ = std::make_unique<ChildProcess>(DEVICE_SIM_BIN, sim_args);
    address_ = testing::first_line_value(*sim_, "listening=");
    kafka_ = std::make_unique<ChildProcess>(
        KAFKA_SANDBOX_BIN, std::vector<std::string>{"--brokers", "1", "--topic", "edgepoll.readings:2", "--stdin-commands"},
        /*pipe_stdin=*/true);
    bootstrap_ = testing::first_line_value(*kafka_, "bootstrap=");
    if (options_.registration) etcd_ = std::make_unique<testing::EtcdServer>();
    write_config();
    // -u: unbuffered, each record's headers as it arrives (reading-id=<device>:<seq>).
    // -E: kcat ends at "all brokers down" otherwise, and the runs take the brokers down.
    consumer_ = std::make_unique<ChildProcess>(
        "/usr/bin/kcat",
        std::vector<std::string>{"-C", "-E", "-b", bootstrap_, "-t", "edgepoll.readings", "-o", "beginning", "-u", "-q",
                                 "-X", "reconnect.backoff.max.ms=200", "-f", "%h\\n"});
  }
  ~Rig() {
    if (daemon_) daemon_->signal_and_wait(SIGKILL, std::chrono::seconds(10));
  }

  // Starts the daemon and waits for its health port; false when it did not come up.
  bool start_daemon() {
    daemon_ = std::make_unique<ChildProcess>(EDGEPOLL_BIN, std::vector<std::string>{"--config", config_.string()});
    port_ = testing::daemon_health_port(*daemon_);
    return port_ != 0 &&
           testing::eventually([&] { return control(R"({"op": "chaos.list"})").value("ok", false); },
                               std::chrono::seconds(20));
  }
  int kill_daemon(int sig) {
    const int status = daemon_->signal_and_wait(sig, std::chrono::seconds(30));
    ++(sig == SIGKILL ? kills_ : stops_);
    return status;
  }
  ChildProcess& daemon() { return *daemon_; }
  ChildProcess& kafka() { return *kafka_; }
  unsigned short port() const { return port_; }
  pid_t daemon_pid() const { return daemon_->pid(); }
  const std::filesystem::path& db() const { return db_; }
  const std::filesystem::path& dir() const { return dir_.path; }
  std::string etcd_key() const { return "/edgepoll/nodes/" + options_.node_id; }
  testing::EtcdServer* etcd() { return etcd_.get(); }
  std::size_t max_in_flight() const { return options_.max_in_flight; }

  nlohmann::json control(const std::string& line) { return unix_request(socket_.string(), line); }
  nlohmann::json tree() { return testing::get_json(port_, "/tree"); }
  // /ready's body whatever its status (503 carries the checks too).
  nlohmann::json ready() {
    const auto r = testing::http_get("127.0.0.1", port_, "/ready");
    return nlohmann::json::parse(r.body, nullptr, false);
  }
  std::optional<std::string> registration() {
    try {
      return testing::etcd_get(etcd_->endpoint(), etcd_key());
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }

  std::int64_t outbox_rows() {
    auto rows = testing::sql_rows(db_, "SELECT count(*) FROM outbox");
    return rows.empty() ? -1 : std::stoll(rows[0][0]);
  }
  // Every (device, seq) ever stored: seq 1..last_seq per device in device_state.
  Stored stored() {
    Stored out;
    for (const auto& row : testing::sql_rows(db_, "SELECT device_id, last_seq FROM device_state")) {
      out[row[0]] = std::stoll(row[1]);
    }
    return out;
  }
  // reading-id -> how often the consumer saw it.
  std::map<std::string, int> consumed() const {
    std::map<std::string, int> seen;
    for (const auto& line : consumer_->lines()) {
      const auto at = line.find("reading-id=");
      if (at == std::string::npos) continue;
      const auto end = line.find(',', at);
      seen[line.substr(at + 11, end == std::string::npos ? std::string::npos : end - at - 11)]++;
    }
    return seen;
  }
  // Waits until every reading stored by now has been consumed. The daemon goes
  // on polling meanwhile, so the readings stored after this call are not asked
  // for: with thousands of devices some are always on their way.
  bool drained(std::chrono::seconds limit) {
    snapshot_ = stored();
    return testing::eventually([&] { return missing(consumed(), snapshot_) == 0; }, limit);
  }

  struct Accounting {
    std::size_t stored = 0, lost = 0, duplicates = 0, unknown = 0;
    std::vector<std::string> first_lost;
    std::size_t consumed = 0;  // distinct readings the consumer saw
    bool consumer_running = false;
  };
  // Accounts for the readings of the last drained() (every one stored so far
  // when there was none): lost = stored and never consumed; duplicates = seen
  // more than once; unknown = in Kafka yet never stored, judged against the
  // store read after the consumer's lines (a reading is stored before it is sent).
  Accounting account() {
    Accounting a;
    const auto seen = consumed();
    const Stored now = stored();
    const Stored& judged = snapshot_.empty() ? now : snapshot_;
    for (const auto& [device, last] : judged) {
      for (std::int64_t seq = 1; seq <= last; ++seq) {
        ++a.stored;
        const auto it = seen.find(device + ":" + std::to_string(seq));
        if (it == seen.end()) {
          ++a.lost;
          if (a.first_lost.size() < 10) a.first_lost.push_back(device + ":" + std::to_string(seq));
          continue;
        }
        a.duplicates += static_cast<std::size_t>(it->second - 1);
      }
    }
    for (const auto& [id, count] : seen) {
      const auto colon = id.rfind(':');
      const auto it = now.find(id.substr(0, colon));
      if (colon == std::string::npos || it == now.end() || std::stoll(id.substr(colon + 1)) > it->second) ++a.unknown;
    }
    a.consumed = seen.size();
    a.consumer_running = consumer_->running();
    return a;
  }
  // One line for a failure message: how many were lost, which, and whether the consumer lives.
  std::string describe_loss() {
    const auto a = account();
    std::string out = std::to_string(a.lost) + " of " + std::to_string(a.stored) + " stored readings not consumed (" +
                      std::to_string(a.consumed) + " distinct readings consumed, the consumer " +
                      (a.consumer_running ? "running" : "has exited") + ")";
    for (std::size_t i = 0; i < a.first_lost.size(); ++i) out += (i ? ", " : "; e.g. ") + a.first_lost[i];
    return out;
  }
  std::size_t daemon_kills() const { return kills_; }

 private:
  void write_config() {
    std::ofstream out(config_);
    out << "[node]\nid = \"" << options_.node_id << "\"\n\n"
        << "[storage]\npath = \"" << db_.string() << "\"\n\n"
        << "[health]\nport = " << health_port_ << "\n\n"
        << "[control]\nsocket = \"" << socket_.string() << "\"\n\n"
        << "[chaos]\nenabled = true\n\n"
        << "[pollers]\nbackoff_base = \"" << options_.backoff_base << "\"\nbackoff_cap = \"5s\"\n\n"
        << "[kafka]\nbootstrap_servers = \"" << bootstrap_ << "\"\ndefault_topic = \"edgepoll.readings\"\n"
        << "max_in_flight = " << options_.max_in_flight << "\n"
        << "properties = { \"reconnect.backoff.max.ms\" = \"200\" }\n\n";
    if (etcd_) {
      out << "[registration]\nendpoints = [\"" << etcd_->endpoint() << "\"]\nttl = \"3s\"\n"
          << "deregister_after = \"2s\"\nreregister_after = \"2s\"\n\n";
    }
    auto device = [&](const std::string& id) {
      out << "[[device]]\nid = \"" << id << "\"\nurl = \"http://" << address_ << "/devices/" << id << "\"\n"
          << "interval = \"" << options_.interval << "\"\ntimeout = \"500ms\"\n"
          << "metrics = [ { pointer = \"/temperature\", name = \"temperature\", type = \"float\" } ]\n\n";
    };
    for (const auto& id : options_.good) device(id);
    for (const auto& [id, behaviour] : options_.bad) device(id);
  }

  static std::size_t missing(const std::map<std::string, int>& seen, const Stored& stored) {
    std::size_t n = 0;
    for (const auto& [device, last] : stored)
      for (std::int64_t seq = 1; seq <= last; ++seq) n += seen.count(device + ":" + std::to_string(seq)) ? 0 : 1;
    return n;
  }

  RigOptions options_;
  Stored snapshot_;  // the store as drained() last read it
  testing::TempDir dir_;
  std::filesystem::path db_ = dir_.path / "edgepoll.db";
  std::filesystem::path config_ = dir_.path / "edgepoll.toml";
  std::filesystem::path socket_ = dir_.path / "control.sock";
  std::unique_ptr<ChildProcess> sim_, kafka_, consumer_, daemon_;
  std::unique_ptr<testing::EtcdServer> etcd_;
  std::string address_, bootstrap_;
  unsigned short port_ = 0;
  // A fixed port: a restarted http_endpoint (a chaos kill) binds the same one again.
  unsigned short health_port_ = testing::free_loopback_port();
  std::size_t kills_ = 0, stops_ = 0;
};

}  // namespace edgepoll::system_test
