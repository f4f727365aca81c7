#pragma once
// What system tests need around a real edgepolld: a temp dir, its peers' first
// lines, its health port, /tree and /metrics, and SQL on its store.
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/child_process.hpp"
#include "support/http_get.hpp"
#include "support/wait_for.hpp"

namespace edgepoll::testing {

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/edgepoll-system-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::filesystem::path path;
};

// The value after `prefix` on the first line that starts with it (device-sim's
// "listening=", kafka-sandbox's "bootstrap=").
inline std::string first_line_value(ChildProcess& p, const std::string& prefix,
                                    std::chrono::seconds limit = std::chrono::seconds(20)) {
  auto line = p.wait_for_line([&](const std::string& l) { return l.rfind(prefix, 0) == 0; }, limit);
  if (!line) throw std::runtime_error("no " + prefix + " line");
  return line->substr(prefix.size());
}

// The health port the daemon logs (0 when it did not start).
inline unsigned short daemon_health_port(ChildProcess& daemon) {
  static const std::regex re("listening on http://127\\.0\\.0\\.1:(\\d+)/");
  std::smatch m;
  auto line = daemon.wait_for_line([&](const std::string& l) { return std::regex_search(l, m, re); },
                                   std::chrono::seconds(20));
  if (!line) return 0;
  std::regex_search(*line, m, re);
  return static_cast<unsigned short>(std::stoi(m[1]));
}

inline nlohmann::json get_json(unsigned short port, const std::string& target) {
  auto r = http_get("127.0.0.1", port, target);
  return r.status == 200 ? nlohmann::json::parse(r.body, nullptr, false) : nlohmann::json();
}

// The child `id` of a /tree node, or nullptr.
inline const nlohmann::json* tree_child(const nlohmann::json& node, const std::string& id) {
  if (!node.is_object() || !node.contains("children")) return nullptr;
  for (const auto& c : node["children"])
    if (c.value("id", "") == id) return &c;
  return nullptr;
}

// One series' value from /metrics ("name" or "name{labels}"); -1 when absent.
inline double metric_value(unsigned short port, const std::string& series) {
  const auto text = http_get("127.0.0.1", port, "/metrics").body;
  const auto at = text.find("\n" + series + " ");
  return at == std::string::npos ? -1 : std::stod(text.substr(at + series.size() + 2));
}

// Runs `sql` on a store (read-write: only while no daemon holds it, or read-only
// queries while one runs, which WAL allows); each row as its columns' text.
inline std::vector<std::vector<std::string>> sql_rows(const std::filesystem::path& db, const std::string& sql,
                                                      bool write = false) {
  std::vector<std::vector<std::string>> rows;
  sqlite3* h = nullptr;
  if (sqlite3_open_v2(db.c_str(), &h, write ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
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

// Writes one record per line to `topic` with kcat (a client of its own); true when kcat succeeded.
inline bool produce_lines(const std::string& bootstrap, const std::string& topic,
                          const std::vector<std::string>& lines) {
  const std::string cmd = "kcat -P -b '" + bootstrap + "' -t " + topic + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "w");
  if (!p) return false;
  for (const auto& l : lines) fprintf(p, "%s\n", l.c_str());
  return pclose(p) == 0;
}

// Every record of `topic` as kcat prints it with `format` (e.g. "%k|%h"), one per line.
inline std::vector<std::string> topic_lines(const std::string& bootstrap, const std::string& topic,
                                            const std::string& format) {
  const std::string cmd = "kcat -C -b '" + bootstrap + "' -t " + topic + " -e -q -f '" + format + "\\n' 2>/dev/null";
  std::vector<std::string> out;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char line[4096];
    while (fgets(line, sizeof line, p)) out.emplace_back(line, strcspn(line, "\n"));
    pclose(p);
  }
  return out;
}

// wait_for for a condition on another process (the daemon, a peer): checked
// every `step`, 100 ms unless told, so that waiting does not load what it waits for.
template <class Done>
bool eventually(Done done, std::chrono::milliseconds limit,
                std::chrono::milliseconds step = std::chrono::milliseconds(100)) {
  return wait_for(std::move(done), limit, step);
}

}  // namespace edgepoll::testing
