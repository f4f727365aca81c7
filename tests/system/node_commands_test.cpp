// Two appliances (node ids a and b) on one Kafka sandbox: each consumes the
// commands topic with its own group (edgepoll.a, edgepoll.b), applies the
// commands addressed to it and those for "*", skips (and counts) the others'
// without dead-lettering them, and dead-letters only what it cannot apply.
#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "daemon_process.hpp"

namespace edgepoll {
namespace {
using namespace std::chrono_literals;
using namespace testing;
namespace fs = std::filesystem;

struct Node {
  Node(const fs::path& dir, const std::string& id, const std::string& bootstrap, const std::string& sim,
       const std::vector<std::string>& devices)
      : db(dir / (id + ".db")), config(dir / (id + ".toml")) {
    {
      std::ofstream out(config);
      out << "[node]\nid = \"" << id << "\"\n\n[storage]\npath = \"" << db.string() << "\"\n\n[health]\nport = 0\n\n"
          << "[kafka]\nbootstrap_servers = \"" << bootstrap << "\"\n\n";
      for (const auto& d : devices) {
        out << "[[device]]\nid = \"" << d << "\"\nurl = \"http://" << sim << "/devices/" << d << "\"\n"
            << "interval = \"1s\"\ntimeout = \"500ms\"\n"
            << "metrics = [ { pointer = \"/temperature\", name = \"temperature\", type = \"float\" } ]\n\n";
      }
    }
    daemon = std::make_unique<ChildProcess>(EDGEPOLL_BIN, std::vector<std::string>{"--config", config.string()});
    port = daemon_health_port(*daemon);
  }
  bool running(const std::string& device) const {
    const auto tree = get_json(port, "/tree");
    const auto* edge = tree_child(tree, "edge");
    const auto* pollers = edge ? tree_child(*edge, "pollers") : nullptr;
    return pollers && tree_child(*pollers, "device:" + device) != nullptr;
  }
  double commands(const std::string& outcome) const {
    return metric_value(port, "edgepoll_kafka_commands_total{outcome=\"" + outcome + "\"}");
  }
  fs::path db, config;
  std::unique_ptr<ChildProcess> daemon;
  unsigned short port = 0;
};

TEST(NodeCommands, TwoNodesOnOneSandboxEachApplyTheirOwnCommandsAndBothApplyStar) {
  TempDir dir;
  ChildProcess kafka(KAFKA_SANDBOX_BIN, {"--brokers", "1", "--topic", "edgepoll.readings:1", "--topic",
                                          "edgepoll.commands:1", "--topic", "edgepoll.dead_letters:1"});
  const std::string bootstrap = first_line_value(kafka, "bootstrap=");
  ChildProcess sim(DEVICE_SIM_BIN, {"--listen", "127.0.0.1:0"});
  const std::string address = first_line_value(sim, "listening=");
  Node a(dir.path, "a", bootstrap, address, {"a-1", "a-2"});
  Node b(dir.path, "b", bootstrap, address, {"b-1", "b-2"});
  ASSERT_NE(a.port, 0);
  ASSERT_NE(b.port, 0);
  for (auto* n : {&a, &b}) {
    auto line = n->daemon->wait_for_line([](const std::string& l) { return l.find("commands_started") != std::string::npos; }, 20s);
    ASSERT_TRUE(line);
    // One group per node: with a shared group, one partition would go to one of them only.
    EXPECT_NE(line->find("group=edgepoll." + std::string(n == &a ? "a" : "b")), std::string::npos) << *line;
  }
  const std::string add = R"({"id":"add-x","node":"*","type":"add_device","device":"x-9","config":{"url":"http://)" +
                          address +
                          R"(/devices/x-9","interval":"1s","metrics":[{"pointer":"/temperature","name":"t","type":"float"}]}})";
  ASSERT_TRUE(produce_lines(bootstrap, "edgepoll.commands",
                            {R"({"id":"off-a1","node":"a","type":"disable_device","device":"a-1"})",
                             R"({"id":"off-b1","node":"b","type":"disable_device","device":"b-1"})", add,
                             // a has a device a-2, b has not: only b (the addressee) dead-letters it.
                             R"({"id":"ghost","node":"b","type":"poll_now","device":"a-2"})"}));

  ASSERT_TRUE(eventually([&] { return a.commands("applied") + a.commands("ignored_other_node") == 4; }, 40s))
      << a.commands("applied") << " " << a.commands("ignored_other_node");
  ASSERT_TRUE(eventually(
      [&] { return b.commands("applied") + b.commands("ignored_other_node") + b.commands("dead_lettered") == 4; },
      40s));
  // a applied its own and "*"; skipped b's two, dead-lettered nothing.
  EXPECT_EQ(a.commands("applied"), 2);
  EXPECT_EQ(a.commands("ignored_other_node"), 2);
  EXPECT_EQ(a.commands("dead_lettered"), 0);
  EXPECT_EQ(b.commands("applied"), 2);
  EXPECT_EQ(b.commands("ignored_other_node"), 1);
  EXPECT_EQ(b.commands("dead_lettered"), 1);
  ASSERT_TRUE(eventually([&] { return a.running("x-9") && b.running("x-9"); }, 20s));
  EXPECT_FALSE(a.running("a-1"));
  EXPECT_TRUE(a.running("a-2"));
  EXPECT_FALSE(b.running("b-1"));
  EXPECT_TRUE(b.running("b-2"));

  // The one dead letter is b's, with its error; the store of each node agrees.
  std::vector<std::string> letters;
  ASSERT_TRUE(eventually(
      [&] {
        letters = topic_lines(bootstrap, "edgepoll.dead_letters", "%k|%h");
        return !letters.empty();
      },
      20s));
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].rfind("ghost|", 0), 0u) << letters[0];
  EXPECT_NE(letters[0].find("error-code=command.unknown_device"), std::string::npos) << letters[0];
  EXPECT_EQ(a.daemon->signal_and_wait(SIGTERM, 30s), 0);
  EXPECT_EQ(b.daemon->signal_and_wait(SIGTERM, 30s), 0);
  EXPECT_EQ(sql_rows(a.db, "SELECT count(*) FROM dead_letters WHERE source = 'command'")[0][0], "0");
  EXPECT_EQ(sql_rows(b.db, "SELECT record_key FROM dead_letters WHERE source = 'command'"),
            (std::vector<std::vector<std::string>>{{"ghost"}}));
}

}  // namespace
}  // namespace edgepoll
