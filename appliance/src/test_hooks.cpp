#include "edgepoll/appliance/test_hooks.hpp"

#include <cstdlib>
#include <fstream>

#include <spdlog/spdlog.h>

#include "edgepoll/supervision/supervisor.hpp"

namespace edgepoll::appliance {

using namespace supervision;

Status fault_injection_allowed(const std::string& code, const std::string& what, const std::string& hint) {
  if (std::getenv("INVOCATION_ID") == nullptr) return ok_status();
  const char* allow = std::getenv("EDGEPOLL_ALLOW_FAULT_INJECTION");
  if (allow != nullptr && std::string_view(allow) == "1") return ok_status();
  return make_error(code, what + ", but this daemon runs under systemd: fault injection is for tests only", false,
                    hint + " (a test rig under systemd sets EDGEPOLL_ALLOW_FAULT_INJECTION=1)");
}

Result<std::optional<std::string>> TestHooks::file_from_environment() {
  const char* file = std::getenv("EDGEPOLL_TEST_HOOKS");
  if (file == nullptr || *file == '\0') return std::optional<std::string>();
  if (auto s = fault_injection_allowed("test_hooks.refused", "EDGEPOLL_TEST_HOOKS is set",
                                       "remove EDGEPOLL_TEST_HOOKS from the unit's environment");
      !s.ok()) {
    return s.take_error();
  }
  return std::optional<std::string>(file);
}

TestHooks::TestHooks(std::string file, boost::asio::io_context& io, Runtime& runtime, Pid root, NodeParts& parts)
    : file_(std::move(file)), runtime_(runtime), root_(std::move(root)), parts_(parts), signals_(io, SIGUSR1) {
  spdlog::warn("TEST HOOKS ENABLED (EDGEPOLL_TEST_HOOKS={}): SIGUSR1 injects faults; never use this in production",
               file_);
  wait();
}

void TestHooks::wait() {
  signals_.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;
    run();
    wait();
  });
}

void TestHooks::run() {
  std::ifstream in(file_);
  std::string verb, arg;
  while (in >> verb) {
    if (verb == "wedge-writer" || verb == "unwedge-writer") {
      if (auto w = parts_.writer->get()) w->wedge_for_test(verb == "wedge-writer");
      spdlog::warn("test hook: {}", verb);
    } else if ((verb == "suspend" || verb == "resume") && in >> arg) {
      const Pid pid = find_in_tree(root_, arg);
      if (!pid) {
        spdlog::error("test hook: no process {}", arg);
        continue;
      }
      if (verb == "suspend") runtime_.send(pid, SysSuspend{});
      else runtime_.send(pid, SysResume{});
      spdlog::warn("test hook: {} {}", verb, arg);
    } else if ((verb == "terminate" || verb == "restart") && in >> arg) {
      supervise(verb, arg);
    } else {
      spdlog::error("test hook: unknown line starting with '{}'", verb);
    }
  }
}

// Through the parent supervisor's own API, as an operator's terminate_child /
// restart_child would: the child stays down until restarted.
void TestHooks::supervise(const std::string& verb, const std::string& path) {
  const auto slash = path.rfind('/');
  const Pid parent = slash == std::string::npos ? Pid{} : find_in_tree(root_, path.substr(0, slash));
  if (!parent) {
    spdlog::error("test hook: no supervisor above {}", path);
    return;
  }
  const std::string id = path.substr(slash + 1);
  if (verb == "terminate") {
    terminate_child(runtime_, parent, id, [path](Status s) {
      if (s.ok()) spdlog::warn("test hook: terminate {}", path);
      else spdlog::error("test hook: terminate {}: {}", path, s.error().describe());
    });
  } else {
    restart_child(runtime_, parent, id, [path](Result<Pid> p) {
      if (p.ok()) spdlog::warn("test hook: restart {}", path);
      else spdlog::error("test hook: restart {}: {}", path, p.error().describe());
    });
  }
}

}  // namespace edgepoll::appliance
