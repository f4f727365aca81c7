#pragma once
// A real program started by a test: stdout+stderr collected line by line on a
// thread (so the child never blocks on a full pipe), waited for with deadlines,
// stopped with SIGTERM (then SIGKILL) when the test ends.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace edgepoll::testing {

class ChildProcess {
 public:
  // `pipe_stdin`: the child reads what write_line() sends (else it inherits stdin).
  ChildProcess(std::string path, std::vector<std::string> args, bool pipe_stdin = false) {
    int out[2];
    int in[2] = {-1, -1};
    if (pipe(out) != 0 || (pipe_stdin && pipe(in) != 0)) throw std::runtime_error("pipe failed");
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      dup2(out[1], STDERR_FILENO);
      if (pipe_stdin) {
        dup2(in[0], STDIN_FILENO);
        close(in[0]);
        close(in[1]);
      }
      close(out[0]);
      close(out[1]);
      std::vector<char*> argv{path.data()};
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(path.c_str(), argv.data());
      _exit(127);
    }
    close(out[1]);
    if (pipe_stdin) {
      close(in[0]);
      stdin_ = in[1];
    }
    reader_ = std::thread([this, fd = out[0]] {
      FILE* f = fdopen(fd, "r");
      char buf[4096];
      while (f && fgets(buf, sizeof buf, f)) {
        std::lock_guard lock(mutex_);
        std::string line(buf);
        if (!line.empty() && line.back() == '\n') line.pop_back();
        lines_.push_back(std::move(line));
        changed_.notify_all();
      }
      if (f) fclose(f);
      std::lock_guard lock(mutex_);
      eof_ = true;
      changed_.notify_all();
    });
  }
  ~ChildProcess() {
    if (stdin_ >= 0) close(stdin_);
    stop();
    if (reader_.joinable()) reader_.join();
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // The first output line `pred` accepts, waiting up to `limit`.
  std::optional<std::string> wait_for_line(const std::function<bool(const std::string&)>& pred,
                                           std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex_);
    std::size_t seen = 0;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      for (; seen < lines_.size(); ++seen) {
        if (pred(lines_[seen])) return lines_[seen];
      }
      if (eof_ || changed_.wait_until(lock, deadline) == std::cv_status::timeout) {
        for (; seen < lines_.size(); ++seen) {
          if (pred(lines_[seen])) return lines_[seen];
        }
        return std::nullopt;
      }
    }
  }
  // One line to the child's stdin (constructed with pipe_stdin); false when it is gone.
  bool write_line(const std::string& line) {
    const std::string l = line + "\n";
    return stdin_ >= 0 && ::write(stdin_, l.data(), l.size()) == static_cast<ssize_t>(l.size());
  }
  std::vector<std::string> lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
  }
  // Sends `sig` without waiting (SIGHUP: a reload).
  void send_signal(int sig) {
    if (pid_ > 0) kill(pid_, sig);
  }
  // Sends `sig` and waits up to `limit` for the exit; returns the exit status
  // (or -1 when it had to be killed).
  int signal_and_wait(int sig, std::chrono::milliseconds limit) {
    if (pid_ <= 0) return exit_status_;
    kill(pid_, sig);
    const auto deadline = std::chrono::steady_clock::now() + limit;
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        // The reader may still hold the child's last lines: lines() after an
        // exit has them all once the pipe's end was read (bounded, in case a
        // grandchild keeps the pipe open).
        std::unique_lock lock(mutex_);
        changed_.wait_until(lock, deadline, [this] { return eof_; });
        return exit_status_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling a child's exit, not a timing assumption
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
    pid_ = -1;
    exit_status_ = -1;
    return exit_status_;
  }
  void stop() {
    if (pid_ > 0) signal_and_wait(SIGTERM, std::chrono::seconds(10));
  }
  pid_t pid() const { return pid_; }
  bool running() {
    int status = 0;
    return pid_ > 0 && waitpid(pid_, &status, WNOHANG) == 0;
  }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  int exit_status_ = -1;
  std::thread reader_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> lines_;
  bool eof_ = false;
};

}  // namespace edgepoll::testing
