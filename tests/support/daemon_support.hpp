#pragma once
// What the system tests share to drive the real daemon and its peers: a temp
// directory, starting device-sim and the Kafka sandbox, finding the health
// port in the daemon's log, reading /tree, producing commands with kcat.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/child_process.hpp"
#include "support/http_get.hpp"

namespace edgepoll::testing {

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/edgepoll-system-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::filesystem::path path;
};

// The first line of a peer's stdout that starts with `prefix`, without it.
inline std::string wait_for_prefix(ChildProcess& peer, const std::string& prefix,
                                   std::chrono::milliseconds limit, const char* what) {
  auto line =
      peer.wait_for_line([&](const std::string& l) { return l.rfind(prefix, 0) == 0; }, limit);
  if (!line) throw std::runtime_error(std::string(what) + " did not start");
  return line->substr(prefix.size());
}
inline std::string start_sim(ChildProcess& sim) {
  return wait_for_prefix(sim, "listening=", std::chrono::seconds(10), "device-sim");
}
inline std::string start_kafka(ChildProcess& kafka) {
  return wait_for_prefix(kafka, "bootstrap=", std::chrono::seconds(20), "kafka-sandbox");
}

// The health endpoint's port from the daemon's log; `nth` counts restarts of the endpoint (0: the
// first).
inline unsigned short health_port(ChildProcess& daemon, std::size_t nth = 0,
                                  std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  static const std::regex re("listening on http://127\\.0\\.0\\.1:(\\d+)/");
  std::size_t seen = 0;
  auto line = daemon.wait_for_line(
      [&](const std::string& l) { return std::regex_search(l, re) && seen++ == nth; }, limit);
  if (!line) return 0;
  std::smatch m;
  std::regex_search(*line, m, re);
  return static_cast<unsigned short>(std::stoi(m[1]));
}

inline nlohmann::json get_json(unsigned short port, const std::string& target) {
  auto r = http_get("127.0.0.1", port, target);
  return r.status == 200 ? nlohmann::json::parse(r.body, nullptr, false) : nlohmann::json();
}

inline const nlohmann::json* tree_child(const nlohmann::json& node, const std::string& id) {
  if (!node.is_object() || !node.contains("children")) return nullptr;
  for (const auto& c : node["children"]) {
    if (c.value("id", "") == id) return &c;
  }
  return nullptr;
}

// A free TCP port on loopback (bound and released: good enough for a test's next bind).
inline unsigned short free_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

inline bool produce_lines(const std::string& bootstrap, const std::string& topic,
                          const std::vector<std::string>& lines) {
  const std::string cmd = "kcat -P -b '" + bootstrap + "' -t " + topic + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "w");
  if (!p) return false;
  for (const auto& l : lines) fprintf(p, "%s\n", l.c_str());
  return pclose(p) == 0;
}

}  // namespace edgepoll::testing
