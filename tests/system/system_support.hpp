#pragma once
// What the system tests share: a temp dir, starting the simulator, finding the
// daemon's health port, reading /tree, /metrics and the SQLite store while the
// daemon runs.
#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/child_process.hpp"
#include "support/http_get.hpp"

#include "daemon_process.hpp"

namespace edgepoll::system_test {
using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::http_get;
namespace fs = std::filesystem;

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/edgepoll-system-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
  fs::path path;
};

inline std::string start_sim(ChildProcess& sim) {
  auto line = sim.wait_for_line([](const std::string& l) { return l.rfind("listening=", 0) == 0; }, 10s);
  if (!line) throw std::runtime_error("device-sim did not start");
  return line->substr(10);
}

inline std::string start_kafka(ChildProcess& kafka) {
  auto line = kafka.wait_for_line([](const std::string& l) { return l.rfind("bootstrap=", 0) == 0; }, 20s);
  if (!line) throw std::runtime_error("kafka-sandbox did not start");
  return line->substr(10);
}

inline unsigned short health_port(ChildProcess& daemon) {
  static const std::regex re("listening on http://127\\.0\\.0\\.1:(\\d+)/");
  std::smatch m;
  auto line = daemon.wait_for_line([&](const std::string& l) { return std::regex_search(l, m, re); }, 20s);
  if (!line) return 0;
  std::regex_search(*line, m, re);
  return static_cast<unsigned short>(std::stoi(m[1]));
}

inline nlohmann::json get_json(unsigned short port, const std::string& target) {
  auto r = http_get("127.0.0.1", port, target);
  return r.status == 200 ? nlohmann::json::parse(r.body, nullptr, false) : nlohmann::json();
}

// One series' value from /metrics ("name" or "name{labels}"); -1 when absent.
inline double metric(unsigned short port, const std::string& series) {
  const auto text = http_get("127.0.0.1", port, "/metrics").body;
  const auto at = text.find("\n" + series + " ");
  return at == std::string::npos ? -1 : std::stod(text.substr(at + series.size() + 2));
}

inline const nlohmann::json* child(const nlohmann::json& node, const std::string& id) {
  if (!node.contains("children")) return nullptr;
  for (const auto& c : node["children"]) {
    if (c.value("id", "") == id) return &c;
  }
  return nullptr;
}

// Reads /tree until the config manager counts `quarantined` devices and
// `also` holds, or `limit` passes; the last tree read. It pauses 250 ms between
// reads: a /tree of a thousand devices is work for the loop it measures.
inline nlohmann::json tree_once_quarantined(unsigned short port, int quarantined, std::chrono::seconds limit,
                                            const std::function<bool()>& also = [] { return true; }) {
  nlohmann::json tree;
  testing::eventually(
      [&] {
        tree = get_json(port, "/tree");
        const auto* edge = child(tree, "edge");
        const auto* manager = edge ? child(*edge, "config_manager") : nullptr;
        return manager && (*manager)["devices_quarantined"] == quarantined && also();
      },
      limit, std::chrono::milliseconds(250));
  return tree;
}

// Rows of a query against the store, read while the daemon runs (WAL allows it);
// each row as its columns' text.
// One SQLite row reader for the system tests (daemon_process.hpp), read-only here.
inline std::vector<std::vector<std::string>> query(const fs::path& db, const std::string& sql) {
  return testing::sql_rows(db, sql);
}

inline std::int64_t query_count(const fs::path& db, const std::string& sql) {
  auto rows = query(db, sql);
  return rows.empty() ? -1 : std::stoll(rows[0][0]);
}

// Devices with at least `min` readings in the outbox.
inline std::set<std::string> devices_with_readings(const fs::path& db, int min) {
  std::set<std::string> out;
  for (const auto& row : query(db, "SELECT device_id FROM outbox GROUP BY device_id HAVING count(*) >= " + std::to_string(min))) {
    out.insert(row[0]);
  }
  return out;
}

}  // namespace edgepoll::system_test
