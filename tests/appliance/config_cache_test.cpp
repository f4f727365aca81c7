// The config cache process on a FakeClock runtime with a real state directory:
// what it writes, what a fresh instance restores, and booting from the cache
// when the files fail validation.
#include "edgepoll/appliance/config_cache.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "edgepoll/appliance/config_cache_file.hpp"
#include "edgepoll/supervision/supervisor.hpp"

namespace edgepoll::appliance {
namespace {
using namespace supervision;
namespace fs = std::filesystem;

struct Cache : ::testing::Test {
  fs::path dir;
  boost::asio::io_context io;
  FakeClock clock;
  Runtime runtime{io, clock, false};
  std::shared_ptr<ConfigStatus> status = std::make_shared<ConfigStatus>();
  std::shared_ptr<ConfigView> view;
  Pid sup;

  void SetUp() override {
    char tmpl[] = "/tmp/edgepoll-cache-XXXXXX";
    dir = mkdtemp(tmpl);
    write_main("[[device]]\nid = \"a\"\nurl = \"http://127.0.0.1:1/a\"\n");
  }
  void TearDown() override {
    if (sup) stop_supervisor(runtime, sup, ExitReason::shutdown());
    runtime.settle();
    fs::remove_all(dir);
  }
  fs::path main() const { return dir / "edgepoll.toml"; }
  fs::path cache_file() const { return dir / "config-cache.json"; }
  void write_main(const std::string& devices) {
    std::ofstream(main()) << "[storage]\npath = \"" << (dir / "edgepoll.db").string() << "\"\n\n"
                          << devices;
  }
  void start(ConfigSource source = ConfigSource::files, std::string detail = {}) {
    auto files = AppConfig::load(main().string());
    ASSERT_TRUE(files.ok()) << files.error().describe();
    view = std::make_shared<ConfigView>(files.value(), source, std::move(detail));
    sup = runtime
              .spawn(std::make_shared<Supervisor>(SupervisorSpec{
                         {Strategy::one_for_one, 1, 5}, {config_cache_child(view, status)}}),
                     "edge")
              .value();
    runtime.settle();
  }
  Pid cache() { return find_in_tree(sup, "edge/config_cache"); }
  Status send(kafka::Command c) {
    std::optional<Status> answer;
    runtime.send(cache(), OverlayChange{std::move(c), [&](Status s) { answer = std::move(s); }});
    runtime.settle();
    EXPECT_TRUE(answer.has_value());
    return answer ? *answer : Status(make_error("test", "no answer"));
  }
  static kafka::Command disable(const std::string& device) {
    kafka::Command c;
    c.id = "off-" + device;
    c.type = kafka::CommandType::disable_device;
    c.device = device;
    c.source = "edgepoll.commands/0/7";
    return c;
  }
};

TEST_F(Cache, ItWritesTheEffectiveConfigOnStartAndEveryChangeAndAFreshOneRestoresTheOverlay) {
  start();
  ASSERT_TRUE(fs::exists(cache_file()));
  ASSERT_TRUE(send(disable("a")).ok());
  EXPECT_FALSE(view->effective()->find("a")->enabled);
  auto cached = read_config_cache(cache_file());
  ASSERT_TRUE(cached.ok()) << cached.error().describe();
  ASSERT_EQ(cached->overlay.devices.count("a"), 1u);
  EXPECT_EQ(cached->overlay.devices.at("a").origins.at("enabled").position,
            "edgepoll.commands/0/7");

  // The process dies (as in a crash): the next instance finds the overlay on disk.
  runtime.exit(cache(), ExitReason::error("boom"));
  runtime.settle();
  ASSERT_TRUE(cache());
  view->set_effective({});  // forget what the old one published
  runtime.settle();
  stop_supervisor(runtime, sup, ExitReason::shutdown());
  runtime.settle();
  sup = Pid{};
  start();
  EXPECT_FALSE(view->effective()->find("a")->enabled);
  EXPECT_NE(view->effective()->find("a")->keys->at("enabled").find("command off-a"),
            std::string::npos);
}

// A reload parses every device afresh; those that did not change keep the
// config object (and key origins) their running subtree holds: one copy per
// device, across reloads too.
TEST_F(Cache, AReloadKeepsTheConfigObjectsOfUnchangedDevices) {
  const std::string a = "[[device]]\nid = \"a\"\nurl = \"http://127.0.0.1:1/a\"\n\n";
  write_main(a + "[[device]]\nid = \"b\"\nurl = \"http://127.0.0.1:1/b\"\n");
  start();
  const auto a_before = *view->effective()->find("a");
  const auto b_before = *view->effective()->find("b");
  write_main(a + "[[device]]\nid = \"b\"\nurl = \"http://127.0.0.1:1/b2\"\n");
  auto files = AppConfig::load(main().string());
  ASSERT_TRUE(files.ok()) << files.error().describe();
  ASSERT_NE(files->devices[0], a_before.config);  // parsed afresh
  std::optional<DeviceDiff> diff;
  runtime.send(cache(), ReloadFiles{files.value(), [&](DeviceDiff d) { diff = std::move(d); }});
  runtime.settle();
  ASSERT_TRUE(diff.has_value());
  EXPECT_EQ(diff->changed, std::vector<std::string>{"b"});
  EXPECT_EQ(view->effective()->find("a")->config, a_before.config);
  EXPECT_EQ(view->effective()->find("a")->keys, a_before.keys);
  EXPECT_EQ(view->files()->devices[0], a_before.config);
  EXPECT_NE(view->effective()->find("b")->config, b_before.config);
  EXPECT_EQ(view->effective()->find("b")->config->url, "http://127.0.0.1:1/b2");
}

TEST_F(Cache, UnknownDevicesAreRefusedAndClearOverlayDropsTheOverlay) {
  start();
  EXPECT_EQ(send(disable("ghost")).error().code, "command.unknown_device");
  ASSERT_TRUE(send(disable("a")).ok());
  std::optional<Result<std::size_t>> cleared;
  runtime.send(cache(),
               ClearOverlay{std::nullopt, [&](Result<std::size_t> n) { cleared = std::move(n); }});
  runtime.settle();
  ASSERT_TRUE(cleared && cleared->ok());
  EXPECT_EQ(cleared->value(), 1u);
  EXPECT_TRUE(view->effective()->find("a")->enabled);
  EXPECT_TRUE(read_config_cache(cache_file())->overlay.devices.empty());
}

TEST_F(Cache, ACommandThatCannotBeWrittenIsNotAppliedAndIsRetryable) {
  start();
  fs::create_directory(dir / ("config-cache.json.tmp." +
                              std::to_string(::getpid())));  // the temp file cannot be created
  auto s = send(disable("a"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "command.unavailable");
  EXPECT_TRUE(s.error().retryable);
  EXPECT_TRUE(view->effective()->find("a")->enabled);
}

TEST_F(Cache, InvalidFilesBootFromTheLastGoodCacheAndCheckConfigStillFails) {
  start();
  ASSERT_TRUE(send(disable("a")).ok());
  write_main("[[device]]\nid = \"a\"\nurl = \"http://127.0.0.1:1/a\"\ncolour = \"red\"\n");
  EXPECT_FALSE(AppConfig::load(main().string()).ok());  // what --check-config runs
  auto boot = load_boot_config(main().string());
  ASSERT_TRUE(boot.ok()) << boot.error().describe();
  EXPECT_EQ(boot->source, ConfigSource::last_good_cache);
  EXPECT_NE(boot->detail.find("colour"), std::string::npos) << boot->detail;
  ASSERT_EQ(boot->config.devices.size(), 1u);

  // The cache process reports where the running config came from.
  stop_supervisor(runtime, sup, ExitReason::shutdown());
  runtime.settle();
  view = std::make_shared<ConfigView>(boot->config, boot->source, boot->detail);
  sup = runtime
            .spawn(std::make_shared<Supervisor>(SupervisorSpec{{Strategy::one_for_one, 1, 5},
                                                               {config_cache_child(view, status)}}),
                   "edge")
            .value();
  runtime.settle();
  EXPECT_EQ(status->get().source, ConfigSource::last_good_cache);
  EXPECT_FALSE(view->effective()->find("a")->enabled);  // the overlay came along
}

TEST_F(Cache, InvalidFilesWithoutACacheAreTheFilesError) {
  write_main("[[device]]\nid = \"a\"\nurl = 5\n");
  auto boot = load_boot_config(main().string());
  ASSERT_FALSE(boot.ok());
  EXPECT_NE(boot.error().message.find("url"), std::string::npos) << boot.error().message;
  EXPECT_NE(boot.error().message.find("no last-good config"), std::string::npos)
      << boot.error().message;
}

}  // namespace
}  // namespace edgepoll::appliance
