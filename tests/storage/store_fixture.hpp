#pragma once
// Shared by the storage tests: a temporary directory of real SQLite files, a
// file fingerprint to prove "unchanged", and waits on conditions with deadlines.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <iterator>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "../support/wait_for.hpp"
#include "edgepoll/storage/store_config.hpp"

namespace edgepoll::storage::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "edgepoll-storage-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline StoreConfig config_for(const std::string& path) {
  StoreConfig c;
  c.path = path;
  c.busy_timeout_ms = 200;
  return c;
}

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// FNV-1a over the file's bytes: "the file is unchanged" as one comparable number.
inline std::uint64_t file_hash(const std::string& path) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : read_bytes(path)) h = (h ^ ch) * 1099511628211ull;
  return h;
}

// Polls `done` until it holds or `limit` passes; the assertion is on the
// condition, never on how long it took.
inline bool wait_until(const std::function<bool()>& done,
                       std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  return ::edgepoll::testing::wait_for(done, limit);
}

// Turns a writer's callback API into a blocking call for tests (30 s at most).
template <class T, class Start>
T await(Start start) {
  return ::edgepoll::testing::await_callback<T>(std::move(start));
}

// A sqlite3 shell (another process) holding a write transaction open on `path`
// until destroyed: a real foreign lock, as an operator's shell would hold.
class LockingShell {
 public:
  explicit LockingShell(const std::string& path) {
    int to[2], from[2];
    if (::pipe(to) != 0 || ::pipe(from) != 0) throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(to[0], 0);
      ::dup2(from[1], 1);
      ::close(to[1]);
      ::close(from[0]);
      ::execlp("sqlite3", "sqlite3", path.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(to[0]);
    ::close(from[1]);
    to_ = to[1];
    from_ = from[0];
    const std::string script = "BEGIN IMMEDIATE;\nSELECT 'locked';\n";
    if (::write(to_, script.data(), script.size()) != static_cast<ssize_t>(script.size()))
      throw std::runtime_error("cannot talk to the sqlite3 shell");
    std::string seen;
    char buf[64];
    while (seen.find("locked") == std::string::npos) {
      const ssize_t n = ::read(from_, buf, sizeof buf);
      if (n <= 0) throw std::runtime_error("the sqlite3 shell did not take the lock");
      seen.append(buf, static_cast<std::size_t>(n));
    }
  }
  ~LockingShell() { release(); }
  void release() {
    if (pid_ <= 0) return;
    ::close(to_);  // end of input: the shell rolls back and exits
    ::close(from_);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int to_ = -1;
  int from_ = -1;
};

}  // namespace edgepoll::storage::testing
