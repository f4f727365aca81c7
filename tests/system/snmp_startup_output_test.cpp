// net-snmp writes to stderr when no log handler takes its messages (a "Cannot
// find module" line for each of its default MIBs at init_snmp, which the
// daemon runs at every start, SNMP devices or not). The daemon's output must
// hold its own log lines only.
#include <gtest/gtest.h>

#include <fstream>

#include "system_support.hpp"

namespace edgepoll {
namespace {
using namespace system_test;

TEST(SnmpStartupOutput, NetSnmpWritesNothingOfItsOwnToTheDaemonsOutput) {
  TempDir dir;
  fs::create_directories(dir.path / "state");
  const auto main = dir.path / "edgepoll.toml";
  std::ofstream(main) << "[storage]\npath = \"" << (dir.path / "state" / "edgepoll.db").string()
                      << "\"\n[health]\nport = 0\n[control]\nsocket = \"" << (dir.path / "control.sock").string()
                      << "\"\n";
  ChildProcess daemon(EDGEPOLL_BIN, {"--config", main.string()});
  ASSERT_NE(health_port(daemon), 0);  // the node is up: net-snmp was initialised before the health server
  // Its exit status is not the point here (a SIGTERM this early may come before its handler is set).
  (void)daemon.signal_and_wait(SIGTERM, 20s);
  (void)daemon.wait_for_line([](const std::string&) { return false; }, 5s);  // returns at the end of its output
  for (const auto& l : daemon.lines()) {
    EXPECT_EQ(l.find("Cannot find module"), std::string::npos) << l;
    EXPECT_EQ(l.find("MIB search path"), std::string::npos) << l;
  }
  EXPECT_FALSE(daemon.lines().empty());
}

}  // namespace
}  // namespace edgepoll
