#pragma once
// Starts tools/device-sim as a child process on a random port for a test and
// stops it afterwards. The simulator prints `listening=<host:port>` first.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

namespace edgepoll::pollers::testing {

class SimProcess {
 public:
  explicit SimProcess(std::vector<std::string> args) {
    int out[2];
    if (pipe(out) != 0) throw std::runtime_error("pipe failed");
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      close(out[1]);
      std::vector<char*> argv;
      std::string path = DEVICE_SIM_PATH;
      argv.push_back(path.data());
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(path.c_str(), argv.data());
      _exit(127);
    }
    close(out[1]);
    stdout_ = fdopen(out[0], "r");
    char line[256] = {};
    if (stdout_ == nullptr || fgets(line, sizeof line, stdout_) == nullptr)
      throw std::runtime_error("device-sim printed nothing");
    std::string s(line);
    if (s.rfind("listening=", 0) != 0) throw std::runtime_error("unexpected first line: " + s);
    address_ = s.substr(10, s.find_last_not_of("\r\n") - 9);
  }
  ~SimProcess() {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    if (stdout_ != nullptr) fclose(stdout_);
  }
  SimProcess(const SimProcess&) = delete;
  SimProcess& operator=(const SimProcess&) = delete;

  const std::string& address() const { return address_; }
  std::string url(const std::string& device) const {
    return "http://" + address_ + "/devices/" + device;
  }
  // Still running? (the simulator must survive every client behaviour)
  bool alive() const {
    int status = 0;
    return waitpid(pid_, &status, WNOHANG) == 0;
  }

 private:
  pid_t pid_ = -1;
  FILE* stdout_ = nullptr;
  std::string address_;
};

}  // namespace edgepoll::pollers::testing
