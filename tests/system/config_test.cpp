// The daemon's configuration as an operator meets it, with real files, the
// device simulator, the Kafka sandbox and the daemon as a process, checked
// through --check-config, the log, /tree and the cache file on disk.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <thread>

#include "support/free_port.hpp"
#include "system_support.hpp"

namespace edgepoll {
namespace {
using namespace std::chrono_literals;
using namespace system_test;
using testing::produce_lines;
namespace fs = std::filesystem;

// The health endpoint's port from the daemon's log after `nth` restarts of it (0: the first start).
unsigned short nth_health_port(ChildProcess& daemon, std::size_t nth) {
  static const std::regex re("listening on http://127\\.0\\.0\\.1:(\\d+)/");
  std::size_t seen = 0;
  auto line = daemon.wait_for_line(
      [&](const std::string& l) { return std::regex_search(l, re) && seen++ == nth; }, 20s);
  if (!line) return 0;
  std::smatch m;
  std::regex_search(*line, m, re);
  return static_cast<unsigned short>(std::stoi(m[1]));
}

std::string device_tables(const std::string& sim, const std::vector<std::string>& ids,
                          const std::string& extra = "") {
  std::string out;
  for (const auto& id : ids) {
    out += "[[device]]\nid = \"" + id + "\"\nurl = \"http://" + sim + "/devices/" + id + "\"\n" +
           "interval = \"1s\"\ntimeout = \"500ms\"\n" + extra +
           "metrics = [ { pointer = \"/temperature\", name = \"temperature\", type = \"float\" } "
           "]\n\n";
  }
  return out;
}

struct Node {
  TempDir dir;
  fs::path main() const { return dir.path / "edgepoll.toml"; }
  fs::path devices(const std::string& name) const { return dir.path / "devices.d" / name; }
  void write_main(const std::string& sections) const {
    std::ofstream(main()) << "[storage]\npath = \"" << (dir.path / "edgepoll.db").string()
                          << "\"\n\n"
                          << "[pollers]\nbackoff_base = \"10m\"\nbackoff_cap = \"1h\"\n\n"
                          << sections;
  }
  void write_devices(const std::string& name, const std::string& text) const {
    fs::create_directories(devices(name).parent_path());
    std::ofstream(devices(name)) << text;
  }
  std::vector<std::string> args() const { return {"--config", main().string()}; }
};

struct Check {
  int status;
  std::string output;
};

Check check_config(const Node& node) {
  ChildProcess check(EDGEPOLL_BIN, {"--config", node.main().string(), "--check-config"});
  const int status = check.signal_and_wait(0, 20s);
  (void)check.wait_for_line([](const std::string&) { return false; },
                            5s);  // returns at the end of its output
  std::string out;
  for (const auto& l : check.lines()) out += l + "\n";
  return {status, out};
}

// Device subtrees running under pollers, by device id, with their pids.
std::map<std::string, std::int64_t> device_pids(unsigned short port) {
  std::map<std::string, std::int64_t> out;
  const auto tree = get_json(port, "/tree");
  const auto* pollers =
      child(child(tree, "edge") ? *child(tree, "edge") : tree, "pollers");
  if (!pollers) return out;
  for (const auto& c : (*pollers)["children"]) {
    const std::string id = c.value("id", "");
    if (id.rfind("device:", 0) == 0 && c.contains("pid"))
      out[id.substr(7)] = c["pid"].get<std::int64_t>();
  }
  return out;
}

// Polls /tree until the set of running devices is `ids` (or the deadline passes).
std::map<std::string, std::int64_t> wait_for_devices(unsigned short port,
                                                     const std::set<std::string>& ids,
                                                     std::chrono::seconds limit = 30s) {
  std::map<std::string, std::int64_t> pids;
  testing::eventually(
      [&] {
        pids = device_pids(port);
        std::set<std::string> running;
        for (const auto& [id, pid] : pids) running.insert(id);
        return running == ids;
      },
      limit, 50ms);
  return pids;
}

std::set<std::string> ids_of(const std::map<std::string, std::int64_t>& pids) {
  std::set<std::string> out;
  for (const auto& [id, pid] : pids) out.insert(id);
  return out;
}

bool logged(ChildProcess& daemon, const std::string& what, std::chrono::milliseconds limit = 20s) {
  return daemon
      .wait_for_line([&](const std::string& l) { return l.find(what) != std::string::npos; }, limit)
      .has_value();
}

TEST(ConfigFiles, CheckConfigCountsDevicesPerFileAndNamesEveryKindOfError) {
  Node node;
  node.write_main(device_tables("127.0.0.1:1", {"m-1"}));
  auto empty = check_config(node);
  EXPECT_EQ(empty.status, 0) << empty.output;
  EXPECT_NE(empty.output.find("does not exist: no device files"), std::string::npos)
      << empty.output;
  fs::create_directories(node.dir.path / "devices.d");
  empty = check_config(node);
  EXPECT_NE(empty.output.find("holds no *.toml files"), std::string::npos) << empty.output;

  node.write_devices("10-boilers.toml", device_tables("127.0.0.1:1", {"b-1", "b-2"}));
  node.write_devices("20-meters.toml", device_tables("127.0.0.1:1", {"e-1"}));
  const auto good = check_config(node);
  EXPECT_EQ(good.status, 0) << good.output;
  EXPECT_NE(good.output.find(": ok, 4 devices"), std::string::npos) << good.output;
  EXPECT_NE(good.output.find("edgepoll.toml: 1 device\n"), std::string::npos) << good.output;
  EXPECT_NE(good.output.find("devices.d/10-boilers.toml: 2 devices"), std::string::npos)
      << good.output;
  EXPECT_NE(good.output.find("devices.d/20-meters.toml: 1 device\n"), std::string::npos)
      << good.output;

  const std::string bad = node.devices("30-bad.toml").string();
  struct Case {
    std::string text;
    std::vector<std::string> named;
  };
  const std::vector<Case> cases = {
      {device_tables("127.0.0.1:1", {"x-1"}, "colour = \"red\"\n"),
       {bad, "line 6", "unknown key \"colour\""}},
      {device_tables("127.0.0.1:1", {"x-1"}, "max_body = \"big\"\n"),
       {bad, "(line 1)", "\"max_body\" must be an integer"}},
      {"\n" + device_tables("127.0.0.1:1", {"b-2"}),
       {"config.duplicate_device", "devices.d/10-boilers.toml:8", "devices.d/30-bad.toml:2"}},
      {"this is { not toml\n", {"config.syntax", bad + ":1:", "not valid TOML"}},
  };
  for (const auto& c : cases) {
    node.write_devices("30-bad.toml", c.text);
    const auto r = check_config(node);
    EXPECT_EQ(r.status, 2) << r.output;
    for (const auto& n : c.named)
      EXPECT_NE(r.output.find(n), std::string::npos) << n << " in " << r.output;
  }
  fs::remove(node.devices("30-bad.toml"));
  fs::create_symlink(node.dir.path / "gone.toml",
                     node.devices("30-bad.toml"));  // unreadable, even for root
  const auto r = check_config(node);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("config.unreadable: " + bad + ": cannot read"), std::string::npos)
      << r.output;
}

TEST(ConfigReload, ABadFileKeepsTheRunningConfigAndAHealthPortChangeMovesOnlyTheEndpoint) {
  Node node;
  ChildProcess sim(DEVICE_SIM_BIN, {"--listen", "127.0.0.1:0"});
  const std::string address = start_sim(sim);
  node.write_main("[health]\nport = 0\n");
  node.write_devices("a.toml", device_tables(address, {"r-1", "r-2"}));
  ChildProcess daemon(EDGEPOLL_BIN, node.args());
  const auto port = health_port(daemon);
  ASSERT_NE(port, 0);
  const auto before = wait_for_devices(port, {"r-1", "r-2"});
  ASSERT_EQ(ids_of(before), (std::set<std::string>{"r-1", "r-2"}));

  // A bad file: refused, named, and the devices keep running as they were.
  node.write_devices("b.toml", device_tables(address, {"r-3"}, "colour = \"red\"\n"));
  daemon.send_signal(SIGHUP);
  ASSERT_TRUE(logged(daemon, "reload refused, keeping the running config"));
  EXPECT_TRUE(logged(daemon,
                     node.devices("b.toml").string() +
                         ": [[device]] #1 (line 1): device \"r-3\" line 6: unknown key \"colour\"",
                     1s));
  EXPECT_EQ(device_pids(port), before);

  // [health] port changes: the endpoint moves, no device restarts.
  fs::remove(node.devices("b.toml"));
  const unsigned short moved = testing::free_loopback_port();
  node.write_main("[health]\nport = " + std::to_string(moved) + "\n");
  daemon.send_signal(SIGHUP);
  ASSERT_TRUE(logged(daemon, "[health] restarted"));
  EXPECT_EQ(nth_health_port(daemon, 1), moved);
  EXPECT_EQ(device_pids(moved), before);
  EXPECT_EQ(http_get("127.0.0.1", port, "/health").status, 0) << "the old port still answers";
  for (const auto& l : daemon.lines()) {
    if (l.find("reloaded") != std::string::npos) {
      EXPECT_EQ(l.find("device"), std::string::npos) << l;
    }
  }

  // The same files again: nothing changed, and the log says so.
  daemon.send_signal(SIGHUP);
  EXPECT_TRUE(logged(daemon, "nothing changed, nothing restarted"));

  // A [pollers.defaults] change restarts the devices it changes, and only those.
  node.write_devices("a.toml", device_tables(address, {"r-1"}) +
                                   "[[device]]\nid = \"r-2\"\nurl = \"http://" + address +
                                   "/devices/r-2\"\n");
  node.write_main("[health]\nport = " + std::to_string(moved) +
                  "\n\n[pollers.defaults]\ninterval = \"2s\"\n");
  daemon.send_signal(SIGHUP);
  ASSERT_TRUE(logged(daemon, "1 device changed"));
  std::map<std::string, std::int64_t> changed;
  testing::eventually(
      [&] {
        changed = wait_for_devices(moved, {"r-1", "r-2"});
        return changed.count("r-2") && changed.at("r-2") != before.at("r-2");
      },
      20s, 50ms);
  ASSERT_EQ(ids_of(changed), (std::set<std::string>{"r-1", "r-2"}));
  EXPECT_EQ(changed.at("r-1"), before.at("r-1")) << "r-1 sets its own interval";
  EXPECT_NE(changed.at("r-2"), before.at("r-2"));
  EXPECT_EQ(daemon.signal_and_wait(SIGTERM, 30s), 0);
}

TEST(ConfigOverlay, AddAndDisableByCommandSurviveAnUnchangedReloadAndAKillNineWithKafkaGone) {
  Node node;
  auto kafka = std::make_unique<ChildProcess>(
      KAFKA_SANDBOX_BIN,
      std::vector<std::string>{"--brokers", "1", "--topic", "edgepoll.readings:1", "--topic",
                               "edgepoll.commands:1", "--topic", "edgepoll.dead_letters:1"});
  const std::string bootstrap = start_kafka(*kafka);
  ChildProcess sim(DEVICE_SIM_BIN, {"--listen", "127.0.0.1:0"});
  const std::string address = start_sim(sim);
  node.write_main("[health]\nport = 0\n\n[kafka]\nbootstrap_servers = \"" + bootstrap +
                  "\"\nproperties = { \"auto.offset.reset\" = \"earliest\" }\n");
  node.write_devices("one.toml", device_tables(address, {"c-0"}));
  auto daemon = std::make_unique<ChildProcess>(EDGEPOLL_BIN, node.args());
  auto port = health_port(*daemon);
  ASSERT_NE(port, 0);
  ASSERT_TRUE(logged(*daemon, "commands_started"));

  const std::string add =
      R"({"id":"add-1","node":"*","type":"add_device","device":"c-9","config":{"url":"http://)" + address +
      R"(/devices/c-9","interval":"1s","metrics":[{"pointer":"/temperature","name":"t","type":"float"}]}})";
  ASSERT_TRUE(produce_lines(bootstrap, "edgepoll.commands",
                            {add, R"({"id":"off-1","node":"*","type":"disable_device","device":"c-0"})"}));
  EXPECT_EQ(ids_of(wait_for_devices(port, {"c-9"})), std::set<std::string>{"c-9"});

  // SIGHUP with the files unchanged keeps the overlay: c-9 stays, c-0 stays off.
  daemon->send_signal(SIGHUP);
  ASSERT_TRUE(logged(*daemon, "nothing changed, nothing restarted"));
  EXPECT_EQ(ids_of(device_pids(port)), std::set<std::string>{"c-9"});

  // kill -9, and Kafka gone too: the node comes back with what the overlay says, from its cache.
  daemon->signal_and_wait(SIGKILL, 10s);
  kafka.reset();
  daemon = std::make_unique<ChildProcess>(EDGEPOLL_BIN, node.args());
  port = health_port(*daemon);
  ASSERT_NE(port, 0);
  ASSERT_TRUE(logged(*daemon, "config_cache event=overlay_restored devices=2"));
  EXPECT_EQ(ids_of(wait_for_devices(port, {"c-9"})), std::set<std::string>{"c-9"});

  // The cache says where each came from.
  std::ifstream in(node.dir.path / "config-cache.json");
  const auto cache = nlohmann::json::parse(in, nullptr, false);
  ASSERT_TRUE(cache.is_object());
  std::map<std::string, nlohmann::json> effective;
  for (const auto& d : cache["effective"]["devices"]) effective[d["id"]] = d;
  ASSERT_EQ(effective.size(), 2u);
  EXPECT_EQ(effective["c-0"]["defined_at"], "devices.d/one.toml:1");
  EXPECT_EQ(effective["c-0"]["enabled"], false);
  EXPECT_EQ(effective["c-0"]["keys"]["enabled"].get<std::string>().rfind(
                "command off-1, edgepoll.commands/0/", 0),
            0u)
      << effective["c-0"].dump();
  EXPECT_NE(effective["c-9"]["defined_at"].get<std::string>().find("added by command add-1"),
            std::string::npos);
  EXPECT_NE(effective["c-9"]["defined_at"].get<std::string>().find("not in the files"),
            std::string::npos);
  EXPECT_EQ(daemon->signal_and_wait(SIGTERM, 30s), 0);
}

TEST(ConfigCache, InvalidFilesAtBootRunTheWholeLastGoodConfigAndSayWhy) {
  Node node;
  ChildProcess sim(DEVICE_SIM_BIN, {"--listen", "127.0.0.1:0"});
  const std::string address = start_sim(sim);
  node.write_main("[health]\nport = 0\n");
  node.write_devices("a.toml", device_tables(address, {"g-1", "g-2"}));
  {
    ChildProcess daemon(EDGEPOLL_BIN, node.args());
    const auto port = health_port(daemon);
    ASSERT_NE(port, 0);
    ASSERT_EQ(ids_of(wait_for_devices(port, {"g-1", "g-2"})),
              (std::set<std::string>{"g-1", "g-2"}));
    EXPECT_EQ(daemon.signal_and_wait(SIGTERM, 30s), 0);
  }
  // Someone breaks a file (and adds a device in the broken one): nothing of it may run.
  node.write_devices("b.toml", device_tables(address, {"g-3"}, "colour = \"red\"\n"));
  EXPECT_EQ(check_config(node).status, 2);
  ChildProcess daemon(EDGEPOLL_BIN, node.args());
  const auto port = health_port(daemon);
  ASSERT_NE(port, 0);
  const auto said = daemon.wait_for_line(
      [](const std::string& l) {
        return l.find("booting from the last-good config") != std::string::npos;
      },
      1s);
  ASSERT_TRUE(said);
  EXPECT_NE(said->find("[critical]"), std::string::npos) << *said;
  EXPECT_NE(said->find("colour"), std::string::npos) << *said;
  EXPECT_EQ(ids_of(wait_for_devices(port, {"g-1", "g-2"})), (std::set<std::string>{"g-1", "g-2"}));
  const auto tree = get_json(port, "/tree");
  const auto* cache = child(*child(tree, "edge"), "config_cache");
  ASSERT_TRUE(cache);
  EXPECT_EQ((*cache)["source"], "last_good_cache") << cache->dump();

  // Fixed files and a SIGHUP: the files run again.
  fs::remove(node.devices("b.toml"));
  daemon.send_signal(SIGHUP);
  ASSERT_TRUE(logged(daemon, "nothing changed, nothing restarted"));
  const auto after = get_json(port, "/tree");
  EXPECT_EQ((*child(*child(after, "edge"), "config_cache"))["source"], "files");
  EXPECT_EQ(daemon.signal_and_wait(SIGTERM, 30s), 0);
}

}  // namespace
}  // namespace edgepoll
