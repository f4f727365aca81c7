#pragma once
// Fault injection for the system tests, never for production: with
// EDGEPOLL_TEST_HOOKS=<file> in the environment, SIGUSR1 makes the daemon read
// that file and act on each line:
//   wedge-writer | unwedge-writer   block / release the storage writer thread
//   suspend <path> | resume <path>  stop / resume serving a process's mailbox
//   terminate <path> | restart <path>  stop a child through its supervisor (it
//                                   stays down) / start it again
// The package never sets it; a daemon started by systemd (INVOCATION_ID set)
// refuses to boot with it, loudly. The same gate guards `[chaos] enabled`.
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "edgepoll/appliance/node_tree.hpp"
#include "edgepoll/supervision/runtime.hpp"

namespace edgepoll::appliance {

// The one gate for fault injection (these hooks, the chaos hook): refused with
// `code` when the daemon looks like production, i.e. runs under systemd
// (INVOCATION_ID set), unless EDGEPOLL_ALLOW_FAULT_INJECTION=1 is set too (a
// test rig under systemd; the package never sets it). `what` names the switch
// in the message, `hint` says how to remove it.
Status fault_injection_allowed(const std::string& code, const std::string& what, const std::string& hint);

class TestHooks {
 public:
  // None without EDGEPOLL_TEST_HOOKS; an error when it is set under systemd.
  static Result<std::optional<std::string>> file_from_environment();
  TestHooks(std::string file, boost::asio::io_context& io, supervision::Runtime& runtime, supervision::Pid root,
            NodeParts& parts);

 private:
  void wait();
  void run();
  void supervise(const std::string& verb, const std::string& path);
  std::string file_;
  supervision::Runtime& runtime_;
  supervision::Pid root_;
  NodeParts& parts_;
  boost::asio::signal_set signals_;
};

}  // namespace edgepoll::appliance
