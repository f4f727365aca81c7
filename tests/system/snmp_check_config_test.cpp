// `edgepolld --check-config` on SNMP devices: what each poll will send (GETs
// for the scalars, the tables' walks and their bounds) and whether the secret
// files can be read, naming the file and never printing a secret.
#include <gtest/gtest.h>

#include <fstream>

#include "system_support.hpp"

namespace edgepoll {
namespace {
using namespace system_test;

TEST(SnmpCheckConfig, DescribesEachPollAndChecksTheSecretFiles) {
  TempDir dir;
  fs::create_directories(dir.path / "state");
  std::ofstream(dir.path / "community") << "not-printed-community\n";
  const auto main = dir.path / "edgepoll.toml";
  std::ofstream(main) << "[storage]\npath = \"" << (dir.path / "state" / "edgepoll.db").string() << "\"\n"
                      << "[[device]]\nid = \"switch-3\"\nprotocol = \"snmp\"\ntimeout = \"1s\"\n"
                      << "  [device.snmp]\n  agent = \"127.0.0.1:1161\"\n  version = \"2c\"\n"
                      << "  community_file = \"" << (dir.path / "community").string() << "\"\n"
                      << "  max_oids_per_pdu = 4\n  metrics = [ "
                      << "{ name = \"a\", oid = \"1.3.6.1.2.1.1.1.0\" }, { name = \"b\", oid = \"1.3.6.1.2.1.1.2.0\" }, "
                      << "{ name = \"c\", oid = \"1.3.6.1.2.1.1.3.0\" }, { name = \"d\", oid = \"1.3.6.1.2.1.1.4.0\" }, "
                      << "{ name = \"e\", oid = \"1.3.6.1.2.1.1.5.0\" } ]\n"
                      << "  [[device.snmp.tables]]\n  name = \"if\"\n  max_repetitions = 24\n"
                      << "  columns = [ { name = \"in_octets\", oid = \"1.3.6.1.2.1.2.2.1.10\", rate = true } ]\n"
                      << "  tags = [ { name = \"ifDescr\", oid = \"1.3.6.1.2.1.2.2.1.2\" } ]\n"
                      << "[[device]]\nid = \"ups-1\"\nprotocol = \"snmp\"\n"
                      << "  [device.snmp]\n  agent = \"127.0.0.1:1162\"\n  version = \"1\"\n  retries = 0\n"
                      << "  community_file = \"" << (dir.path / "missing").string() << "\"\n"
                      << "  metrics = [ { name = \"a\", oid = \"1.3.6.1.2.1.1.3.0\" } ]\n"
                      << "  [[device.snmp.tables]]\n  name = \"t\"\n  max_rows = 50\n  max_walk_time = \"2s\"\n"
                      << "  columns = [ { name = \"x\", oid = \"1.3.6.1.2.1.2.2.1.16\" } ]\n";
  ChildProcess check(EDGEPOLL_BIN, {"--config", main.string(), "--check-config"});
  const int status = check.signal_and_wait(0, 20s);
  (void)check.wait_for_line([](const std::string&) { return false; }, 5s);  // returns at the end of its output
  std::string out;
  for (const auto& l : check.lines()) out += l + "\n";
  EXPECT_EQ(status, 0) << out;  // an unreadable secret is reported, the files are still valid
  EXPECT_NE(out.find("device switch-3 (snmp v2c 127.0.0.1:1161): 5 scalars in 2 GETs of up to 4 OIDs, 1 table; "
                     "timeout 1s per attempt, 1 retry\n"
                     "  table if: 1 column and 1 tag walked with GETBULK of 24 repetitions, at most 1000 rows in 5s\n"
                     "  secret files: readable\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("device ups-1 (snmp v1 127.0.0.1:1162): 1 scalar in 1 GET of up to 32 OIDs, 1 table; "
                     "timeout 2s per attempt, 0 retries\n"
                     "  table t: 1 column and 0 tags walked with GETNEXT, at most 50 rows in 2s\n"
                     "  secret files: pollers.config.secret_unreadable: device \"ups-1\": cannot read secret file \"" +
                         (dir.path / "missing").string() + "\""),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("not-printed-community"), std::string::npos);
}

}  // namespace
}  // namespace edgepoll
