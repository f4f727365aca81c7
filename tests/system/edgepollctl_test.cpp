// edgepollctl against a running edgepolld: every subcommand, its --json parsed,
// usage errors, the control socket's refusals and permissions, dead letters
// replayed and dropped. Real daemon, real device simulator, real SQLite store.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <regex>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "edgepoll/storage/batch_writer.hpp"
#include "edgepoll/storage/database.hpp"
#include "support/child_process.hpp"
#include "support/http_get.hpp"
#include "support/wait_for.hpp"

namespace edgepoll {
namespace {
using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::http_get;
namespace fs = std::filesystem;

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/edgepoll-ctl-XXXXXX";
    path = mkdtemp(tmpl);
    // Traversable by everyone, so that the socket's own mode is what keeps
    // another user out (the permission test runs a client as nobody).
    fs::permissions(path, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  }
  ~TempDir() { fs::remove_all(path); }
  fs::path path;
};

bool eventually(const std::function<bool()>& cond, std::chrono::milliseconds limit = 15s) {
  return testing::wait_for(cond, limit, 100ms);
}

struct CtlRun {
  int exit = -1;
  std::string out, err;
  nlohmann::json json() const { return nlohmann::json::parse(out, nullptr, false); }
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs a program to its end (30 s at most), stdout and stderr apart.
CtlRun run(const std::vector<std::string>& argv_in, const fs::path& scratch) {
  const fs::path out = scratch / "run.out", err = scratch / "run.err";
  const pid_t pid = fork();
  if (pid == 0) {
    const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(o, STDOUT_FILENO);
    dup2(e, STDERR_FILENO);
    std::vector<std::string> args = argv_in;
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  CtlRun r;
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(5ms);  // polling a child's exit
  }
  r.exit = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

// Dead letters as the daemon's own writer would have left them: a reading
// Kafka refused and commands that named a device that was not there.
struct Seeded {
  std::string reading_key;
};

Seeded seed_dead_letters(const fs::path& db) {
  storage::StoreConfig cfg;
  cfg.path = db.string();
  auto opened = storage::Database::open(cfg);
  if (!opened.ok()) throw std::runtime_error(opened.error().describe());
  storage::BatchWriter writer(std::move(opened.value()), cfg);
  auto wait = [](auto start) {
    std::promise<bool> p;
    auto f = p.get_future();
    start([&p](auto r) { p.set_value(r.ok()); });
    if (!f.get()) throw std::runtime_error("seeding the store failed");
  };
  std::promise<Result<storage::Ack>> stored;
  auto acked = stored.get_future();
  if (!writer.submit({"d1", 1700000000000, R"({"temperature":21.5})"}, [&](Result<storage::Ack> a) { stored.set_value(a); }).ok())
    throw std::runtime_error("submit refused");
  auto ack = acked.get();
  if (!ack.ok()) throw std::runtime_error(ack.error().describe());
  wait([&](auto cb) { writer.move_to_dead_letters(ack->outbox_id, "kafka.msg_size_too_large: too large", cb); });
  wait([&](auto cb) {
    writer.add_dead_letter(storage::DeadLetterSource::command, "c-1",
                           R"({"id": "c-1", "node": "*", "type": "disable_device", "device": "d3"})",
                           "command.unknown_device: no device 'd3' is configured", cb);
  });
  wait([&](auto cb) {
    writer.add_dead_letter(storage::DeadLetterSource::command, "c-2", R"({"id": "c-2", "node": "*", "type": "poll_now", "device": "gone"})",
                           "command.unknown_device: no device 'gone' is configured", cb);
  });
  writer.stop();
  return {"d1:" + std::to_string(ack->id.seq)};
}

class EdgepollctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    address_ = first_value(sim_, "listening=");
    write_config(config_);
    seeded_ = seed_dead_letters(db_);
    daemon_ = std::make_unique<ChildProcess>(EDGEPOLL_BIN, std::vector<std::string>{"--config", config_.string()});
    static const std::regex re("listening on http://127\\.0\\.0\\.1:(\\d+)/");
    std::smatch m;
    auto line = daemon_->wait_for_line([&](const std::string& l) { return std::regex_search(l, m, re); }, 20s);
    ASSERT_TRUE(line) << "the daemon did not start its health endpoint";
    std::regex_search(*line, m, re);
    port_ = static_cast<unsigned short>(std::stoi(m[1]));
    ASSERT_TRUE(daemon_->wait_for_line([](const std::string& l) { return l.find("control event=listening") != std::string::npos; }, 20s));
  }

  static std::string first_value(ChildProcess& p, const std::string& prefix) {
    auto line = p.wait_for_line([&](const std::string& l) { return l.rfind(prefix, 0) == 0; }, 10s);
    if (!line) throw std::runtime_error("no " + prefix + " line");
    return line->substr(prefix.size());
  }
  void write_config(const fs::path& file) {
    std::ofstream out(file);
    out << "[storage]\npath = \"" << db_.string() << "\"\n\n[health]\nport = 0\n\n[control]\nsocket = \""
        << socket_.string() << "\"\n\n[pollers]\nbackoff_base = \"10m\"\nbackoff_cap = \"1h\"\n\n";
    for (const char* id : {"d1", "d2", "d3"}) {
      // A long interval: the polls a test counts are the first one and poll-now's.
      out << "[[device]]\nid = \"" << id << "\"\nurl = \"http://" << address_ << "/devices/" << id << "\"\n"
          << "interval = \"1h\"\ntimeout = \"500ms\"\n"
          << "metrics = [ { pointer = \"/temperature\", name = \"temperature\", type = \"float\" } ]\n\n";
    }
  }
  // edgepollctl with the daemon's config, health endpoint and `args`.
  CtlRun ctl(std::vector<std::string> args) {
    std::vector<std::string> argv = {EDGEPOLLCTL_BIN, "--config", config_.string(), "--health",
                                     "http://127.0.0.1:" + std::to_string(port_)};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, dir_.path);
  }
  std::vector<std::string> ids_in(const std::string& state) {
    std::vector<std::string> out;
    auto r = ctl({"--json", "devices", "--state", state});
    for (const auto& d : r.json()) out.push_back(d["id"]);
    return out;
  }
  nlohmann::json control_raw(const std::string& bytes) {
    const int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, socket_.c_str());
    if (::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(s);
      return {};
    }
    (void)!::write(s, bytes.data(), bytes.size());
    std::string answer;
    char buf[4096];
    timeval tv{10, 0};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    for (ssize_t n; answer.find('\n') == std::string::npos && (n = ::read(s, buf, sizeof buf)) > 0;) answer.append(buf, n);
    ::close(s);
    return nlohmann::json::parse(answer, nullptr, false);
  }
  bool logged(const std::string& text) {
    return daemon_->wait_for_line([&](const std::string& l) { return l.find(text) != std::string::npos; }, 10s).has_value();
  }

  TempDir dir_;
  ChildProcess sim_{DEVICE_SIM_BIN, {"--listen", "127.0.0.1:0"}};
  std::string address_;
  fs::path db_ = dir_.path / "state.db";
  fs::path config_ = dir_.path / "edgepoll.toml";
  fs::path socket_ = dir_.path / "control.sock";
  Seeded seeded_;
  std::unique_ptr<ChildProcess> daemon_;
  unsigned short port_ = 0;
};

TEST_F(EdgepollctlTest, StatusTreeAndDevicesInTablesAndJson) {
  // The interval is an hour: each device polls now, once, and is polling.
  for (const char* id : {"d1", "d2", "d3"}) ASSERT_EQ(ctl({"device", "poll-now", id}).exit, 0);
  ASSERT_TRUE(eventually([&] { return ids_in("polling").size() == 3; })) << ctl({"devices"}).out;
  auto status = ctl({"--json", "status"});
  ASSERT_EQ(status.exit, 0) << status.err;
  const auto s = status.json();
  EXPECT_EQ(s["ready"], true);
  EXPECT_EQ(s["version"], EDGEPOLL_VERSION);
  EXPECT_EQ(s["devices"]["total"], 3);
  EXPECT_EQ(s["devices"]["by_state"]["polling"], 3);
  EXPECT_EQ(s["outbox"]["dead_letters"], 3);
  EXPECT_TRUE(s["kafka"].is_null());  // no [kafka] in this config
  auto human = ctl({"status"});
  EXPECT_EQ(human.exit, 0);
  EXPECT_NE(human.out.find("ready"), std::string::npos);
  EXPECT_NE(human.out.find("devices: 3 (3 polling)"), std::string::npos) << human.out;

  auto tree = ctl({"--json", "tree"});
  ASSERT_EQ(tree.exit, 0);
  EXPECT_EQ(tree.json()["strategy"], "one_for_one");
  auto drawn = ctl({"tree"});
  EXPECT_NE(drawn.out.find("├── deps  one_for_one"), std::string::npos) << drawn.out;
  EXPECT_NE(drawn.out.find("│   ├── pollers  simple_one_for_one 3/3 children"), std::string::npos) << drawn.out;
  EXPECT_NE(drawn.out.find("control_socket  worker"), std::string::npos);

  auto devices = ctl({"--json", "devices"}).json();
  ASSERT_EQ(devices.size(), 3u);
  EXPECT_EQ(devices[0]["id"], "d1");
  EXPECT_EQ(devices[0]["protocol"], "http");
  // The file and line that define the device, as --check-config names them.
  EXPECT_EQ(devices[0]["source"].get<std::string>().rfind("edgepoll.toml:", 0), 0u) << devices[0]["source"];
  auto table = ctl({"devices"});
  EXPECT_NE(table.out.find("ID  PROTOCOL  STATE"), std::string::npos) << table.out;

  auto show = ctl({"--json", "device", "show", "d2"});
  ASSERT_EQ(show.exit, 0);
  EXPECT_EQ(show.json()["id"], "d2");
  EXPECT_GE(show.json()["polls"].get<int>(), 1);
  auto missing = ctl({"device", "show", "nope"});
  EXPECT_EQ(missing.exit, 1);
  EXPECT_NE(missing.err.find("no device 'nope'"), std::string::npos);

  // The build, also on /metrics.
  EXPECT_NE(http_get("127.0.0.1", port_, "/metrics").body.find("edgepoll_build_info{version=\"" EDGEPOLL_VERSION "\"} 1"),
            std::string::npos);
}

TEST_F(EdgepollctlTest, DeviceDisableEnableAndPollNowGoThroughTheControlSocket) {
  auto disable = ctl({"device", "disable", "d2"});
  ASSERT_EQ(disable.exit, 0) << disable.err;
  EXPECT_EQ(ids_in("disabled"), std::vector<std::string>{"d2"});
  EXPECT_TRUE(logged("device=d2 event=control op=device.disable"));
  ASSERT_EQ(ctl({"device", "enable", "d2"}).exit, 0);
  EXPECT_TRUE(eventually([&] { return ids_in("disabled").empty(); }));

  const int before = ctl({"--json", "device", "show", "d1"}).json().value("polls", 0);
  auto now = ctl({"--json", "device", "poll-now", "d1"});
  ASSERT_EQ(now.exit, 0) << now.out;
  EXPECT_EQ(now.json()["ok"], true);
  EXPECT_TRUE(eventually([&] { return ctl({"--json", "device", "show", "d1"}).json()["polls"].get<int>() > before; }));

  auto unknown = ctl({"--json", "device", "poll-now", "nope"});
  EXPECT_EQ(unknown.exit, 1);
  EXPECT_EQ(unknown.json()["error"]["code"], "command.unknown_device");
}

// The overlay here comes from the control socket's own disable (a config
// change, as Kafka's disable_device is): shown with its origin, then cleared.
TEST_F(EdgepollctlTest, ConfigShowGivesProvenanceAndOverlayClearLetsTheFilesApplyAgain) {
  auto whole = ctl({"--json", "config", "show"});
  ASSERT_EQ(whole.exit, 0) << whole.err;
  const auto j = whole.json();
  ASSERT_TRUE(j.is_object()) << whole.out;
  EXPECT_EQ(j["source"], "files");
  ASSERT_EQ(j["devices"].size(), 3u) << whole.out;
  EXPECT_EQ(j["devices"][0]["settings"]["interval"].get<std::string>().empty(), false);
  EXPECT_NE(j["devices"][0]["defined_at"].get<std::string>().find("edgepoll.toml:"), std::string::npos) << whole.out;

  ASSERT_EQ(ctl({"device", "disable", "d2"}).exit, 0);
  auto d2 = ctl({"--json", "config", "show", "--device", "d2"}).json();
  ASSERT_EQ(d2["devices"].size(), 1u) << d2.dump();
  EXPECT_EQ(d2["devices"][0]["enabled"], false);
  EXPECT_NE(d2["devices"][0]["keys"]["enabled"].get<std::string>().find("control socket"), std::string::npos)
      << d2.dump();
  auto human = ctl({"config", "show", "--device", "d2"});
  EXPECT_EQ(human.exit, 0);
  EXPECT_NE(human.out.find("d2  disabled"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("control socket"), std::string::npos) << human.out;
  EXPECT_EQ(ctl({"config", "show", "--device", "nope"}).exit, 1);

  EXPECT_EQ(ctl({"config", "overlay", "clear"}).exit, 2);
  EXPECT_EQ(ctl({"config", "overlay", "clear", "--device", "d2", "--all"}).exit, 2);
  auto cleared = ctl({"--json", "config", "overlay", "clear", "--device", "d2"});
  ASSERT_EQ(cleared.exit, 0) << cleared.out << cleared.err;
  EXPECT_EQ(cleared.json()["cleared"], 1);
  EXPECT_EQ(ctl({"--json", "config", "show", "--device", "d2"}).json()["devices"][0]["enabled"], true);
  EXPECT_TRUE(eventually([&] { return ids_in("disabled").empty(); })) << ctl({"devices"}).out;
  auto again = ctl({"config", "overlay", "clear", "--all"});
  EXPECT_EQ(again.exit, 0);
  EXPECT_NE(again.out.find("the overlay was empty"), std::string::npos) << again.out;
}

TEST_F(EdgepollctlTest, DeadLettersAreListedShownReplayedAndDropped) {
  auto all = ctl({"--json", "dlq", "list"});
  ASSERT_EQ(all.exit, 0) << all.err;
  ASSERT_EQ(all.json().size(), 3u);
  EXPECT_EQ(ctl({"--json", "dlq", "list", "--source", "command"}).json().size(), 2u);
  EXPECT_EQ(ctl({"--json", "dlq", "list", "--source", "reading"}).json()[0]["key"], seeded_.reading_key);
  EXPECT_EQ(ctl({"--json", "dlq", "list", "--since", "1h"}).json().size(), 3u);
  EXPECT_EQ(ctl({"--json", "dlq", "list", "--since", "2999-01-01T00:00:00Z"}).json().size(), 0u);
  EXPECT_NE(ctl({"dlq", "list"}).out.find("c-1"), std::string::npos);

  auto show = ctl({"--json", "dlq", "show", "c-1"});
  ASSERT_EQ(show.exit, 0);
  EXPECT_NE(show.json()["record"].get<std::string>().find("disable_device"), std::string::npos);
  EXPECT_EQ(ctl({"dlq", "show", "no-such-key"}).exit, 1);

  // The command was dead-lettered because d3 did not exist; it does now, and
  // replaying applies it: d3 is disabled, and the dead letter is gone.
  auto replay = ctl({"dlq", "replay", "c-1"});
  ASSERT_EQ(replay.exit, 0) << replay.err;
  EXPECT_EQ(ids_in("disabled"), std::vector<std::string>{"d3"});
  EXPECT_EQ(ctl({"dlq", "show", "c-1"}).exit, 1);
  EXPECT_TRUE(logged("dlq event=replayed id="));

  // A reading goes back into the outbox, under its own device and sequence.
  ASSERT_EQ(ctl({"dlq", "replay", seeded_.reading_key}).exit, 0);
  auto status = ctl({"--json", "status"}).json();
  EXPECT_EQ(status["outbox"]["dead_letters"], 1);
  EXPECT_GE(status["outbox"]["readings"].get<int>(), 1);

  // A command that cannot apply stays, with the error as the answer.
  auto again = ctl({"--json", "dlq", "replay", "c-2"});
  EXPECT_EQ(again.exit, 1);
  EXPECT_EQ(again.json()["error"]["code"], "command.unknown_device");
  EXPECT_EQ(ctl({"dlq", "show", "c-2"}).exit, 0);

  auto drop = ctl({"dlq", "drop", "c-2", "--reason", "device gone for good"});
  ASSERT_EQ(drop.exit, 0) << drop.err;
  EXPECT_EQ(ctl({"dlq", "show", "c-2"}).exit, 1);
  EXPECT_TRUE(logged("key=c-2 reason=\"device gone for good\""));
  EXPECT_EQ(ctl({"--json", "dlq", "list"}).json().size(), 0u);
  auto none = ctl({"--json", "dlq", "drop", "--all", "--reason", "x"});
  EXPECT_EQ(none.exit, 0);
  EXPECT_EQ(none.json()["dropped"].size(), 0u);
}

TEST_F(EdgepollctlTest, BadArgumentsAreUsageErrors) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {},
           {"bogus"},
           {"devices", "--state", "sleepy"},
           {"device"},
           {"device", "show"},
           {"dlq", "replay"},
           {"dlq", "replay", "c-1", "--all"},
           {"dlq", "drop", "c-1"},
           {"dlq", "list", "--source", "both"},
           {"dlq", "list", "--since", "yesterday"},
           {"--health", "ftp://x", "status"},
       }) {
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(ctl(args).exit, 2) << joined;
  }
  for (const char* bin : {EDGEPOLLCTL_BIN, EDGEPOLL_BIN}) {
    auto v = run({bin, "--version"}, dir_.path);
    EXPECT_EQ(v.exit, 0);
    EXPECT_NE(v.out.find(EDGEPOLL_VERSION), std::string::npos) << v.out;
    EXPECT_EQ(run({bin, "--help"}, dir_.path).exit, 0);
  }
}

TEST_F(EdgepollctlTest, ConfigCheckRunsTheDaemonsValidation) {
  auto good = ctl({"config", "check"});
  EXPECT_EQ(good.exit, 0);
  EXPECT_NE(good.out.find("ok, 3 devices"), std::string::npos) << good.out;
  const fs::path bad = dir_.path / "bad.toml";
  std::ofstream(bad) << "[control]\nsokcet = \"/tmp/x\"\n";
  auto refused = ctl({"config", "check", bad.string()});
  EXPECT_EQ(refused.exit, 1);
  EXPECT_NE(refused.err.find("sokcet"), std::string::npos) << refused.err;
  auto daemon_says = run({EDGEPOLL_BIN, "--config", bad.string(), "--check-config"}, dir_.path);
  EXPECT_NE(daemon_says.err.find(refused.err.substr(0, refused.err.size() - 1)), std::string::npos)
      << daemon_says.err << " vs " << refused.err;
  auto json = ctl({"--json", "config", "check", bad.string()}).json();
  EXPECT_EQ(json["ok"], false);
}

TEST_F(EdgepollctlTest, TheControlSocketRefusesBadRequestsByNameAndKeepsServing) {
  EXPECT_EQ(control_raw("not json\n")["error"]["code"], "control.malformed");
  EXPECT_EQ(control_raw(R"({"op": "device.explode", "device": "d1"})" "\n")["error"]["code"], "control.unknown_op");
  EXPECT_EQ(control_raw(R"({"op": "device.enable", "device": "d1", "now": 1})" "\n")["error"]["code"],
            "control.unknown_field");
  EXPECT_EQ(control_raw(std::string(100000, 'x'))["error"]["code"], "control.too_large");
  EXPECT_EQ(control_raw(std::string("{\"op\": \"\xff\"}\n"))["error"]["code"], "control.malformed");
  // The daemon did not notice: it answers a good request and its probes.
  EXPECT_EQ(control_raw(R"({"op": "device.poll_now", "device": "d1"})" "\n")["ok"], true);
  EXPECT_EQ(http_get("127.0.0.1", port_, "/health").status, 200);
  // Ready once every device has polled (the devices check of /ready; their 1 h
  // interval puts the first tick anywhere in the hour, so poll them now).
  for (const char* id : {"d2", "d3"}) EXPECT_EQ(ctl({"device", "poll-now", id}).exit, 0);
  CtlRun status;
  EXPECT_TRUE(eventually([&] { return (status = ctl({"status"})).exit == 0; }, 15s)) << status.out << status.err;
}

TEST_F(EdgepollctlTest, AClientWithoutPermissionOnTheSocketGetsNothing) {
  struct stat st{};
  ASSERT_EQ(::stat(socket_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  auto denied = run({"/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", EDGEPOLLCTL_BIN,
                     "--socket", socket_.string(), "device", "disable", "d1"},
                    dir_.path);
  EXPECT_EQ(denied.exit, 1) << denied.out << denied.err;
  EXPECT_NE(denied.err.find("Permission denied"), std::string::npos) << denied.err;
  EXPECT_TRUE(ids_in("disabled").empty());  // nothing happened
}

TEST(EdgepollctlLogs, JsonLogLinesCarryTheFields) {
  TempDir dir;
  {
    std::ofstream out(dir.path / "e.toml");
    out << "[storage]\npath = \"" << (dir.path / "s.db").string() << "\"\n[health]\nport = 0\n[control]\nsocket = \""
        << (dir.path / "c.sock").string() << "\"\n";
  }
  ChildProcess daemon(EDGEPOLL_BIN, {"--config", (dir.path / "e.toml").string(), "--log-format", "json"});
  auto line = daemon.wait_for_line(
      [](const std::string& l) {
        auto j = nlohmann::json::parse(l, nullptr, false);
        return j.is_object() && j.value("supervisor", "") == "root/deps/storage_pool" &&
               j.value("event", "") == "child_started";
      },
      20s);
  ASSERT_TRUE(line) << "no JSON line with supervisor and event fields";
  const auto j = nlohmann::json::parse(*line);
  EXPECT_EQ(j["level"], "info");
  EXPECT_NE(j["message"].get<std::string>().find("supervision event=child_started"), std::string::npos);
}

}  // namespace
}  // namespace edgepoll

namespace edgepoll {
namespace {

// Without its directory the socket is retried; the node runs on meanwhile and
// /tree says why the socket is missing.
TEST(EdgepollctlSocket, AMissingRuntimeDirectoryIsRetriedWhileTheNodeRuns) {
  TempDir dir;
  const fs::path runtime = dir.path / "run";
  {
    std::ofstream out(dir.path / "e.toml");
    out << "[storage]\npath = \"" << (dir.path / "s.db").string() << "\"\n[health]\nport = 0\n[control]\nsocket = \""
        << (runtime / "control.sock").string() << "\"\n";
  }
  ChildProcess daemon(EDGEPOLL_BIN, {"--config", (dir.path / "e.toml").string()});
  ASSERT_TRUE(daemon.wait_for_line([](const std::string& l) { return l.find("control event=not_listening") != std::string::npos; }, 20s));
  static const std::regex re("listening on http://127\\.0\\.0\\.1:(\\d+)/");
  std::smatch m;
  auto line = daemon.wait_for_line([&](const std::string& l) { return std::regex_search(l, m, re); }, 20s);
  ASSERT_TRUE(line);
  std::regex_search(*line, m, re);
  const auto port = static_cast<unsigned short>(std::stoi(m[1]));
  auto control_node = [&] {
    auto tree = nlohmann::json::parse(http_get("127.0.0.1", port, "/tree").body, nullptr, false);
    for (const auto& group : tree.value("children", nlohmann::json::array()))
      for (const auto& c : group.value("children", nlohmann::json::array()))
        if (c.value("id", "") == "control_socket") return c;
    return nlohmann::json();
  };
  EXPECT_EQ(control_node()["listening"], false);
  EXPECT_NE(control_node().value("error", "").find("control.socket"), std::string::npos);
  EXPECT_EQ(http_get("127.0.0.1", port, "/health").status, 200);
  fs::create_directory(runtime);
  EXPECT_TRUE(eventually([&] { return control_node().value("listening", false); }, 15s));
  EXPECT_TRUE(fs::is_socket(runtime / "control.sock"));
}

}  // namespace
}  // namespace edgepoll
