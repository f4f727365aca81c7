// The main file plus devices.d on a real directory: every error names the
// file, the line and what was expected.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "edgepoll/appliance/app_config.hpp"

namespace edgepoll::appliance {
namespace {
namespace fs = std::filesystem;

struct ConfigDir : ::testing::Test {
  fs::path dir;
  void SetUp() override {
    char tmpl[] = "/tmp/edgepoll-config-XXXXXX";
    dir = mkdtemp(tmpl);
    write("edgepoll.toml", "[storage]\npath = \"" + (dir / "x.db").string() + "\"\n");
  }
  void TearDown() override { fs::remove_all(dir); }
  fs::path main() const { return dir / "edgepoll.toml"; }
  void write(const std::string& name, const std::string& text) {
    fs::create_directories((dir / name).parent_path());
    std::ofstream(dir / name) << text;
  }
  static std::string device(const std::string& id, const std::string& extra = "") {
    return "[[device]]\nid = \"" + id + "\"\nurl = \"http://127.0.0.1:1/devices/" + id + "\"\n" +
           extra + "\n";
  }
  Error error() {
    auto c = AppConfig::load(main().string());
    EXPECT_FALSE(c.ok());
    return c.ok() ? Error{} : c.error();
  }
};

TEST_F(ConfigDir, DevicesComeFromTheMainFileAndDevicesDInNameOrder) {
  write("edgepoll.toml", "[storage]\npath = \"/tmp/x.db\"\n\n" + device("m1"));
  write("devices.d/20-b.toml", device("b1") + device("b2"));
  write("devices.d/10-a.toml", device("a1"));
  write("devices.d/notes.txt", "not a device file: ignored");
  auto c = AppConfig::load(main().string());
  ASSERT_TRUE(c.ok()) << c.error().describe();
  ASSERT_EQ(c->devices.size(), 4u);
  EXPECT_EQ(c->devices[0]->id, "m1");
  EXPECT_EQ(c->devices[1]->id, "a1");
  EXPECT_EQ(c->devices[3]->id, "b2");
  const std::vector<std::pair<std::string, std::size_t>> per_file{
      {"edgepoll.toml", 1}, {"devices.d/10-a.toml", 1}, {"devices.d/20-b.toml", 2}};
  EXPECT_EQ(c->devices_per_file, per_file);
  EXPECT_EQ(c->device_sources.at("b2").defined_at, "devices.d/20-b.toml:5");
  EXPECT_EQ(c->device_sources.at("b2").keys->at("url"), "devices.d/20-b.toml:7");
}

TEST_F(ConfigDir, AMissingOrEmptyDevicesDIsAValidConfigAndSaysSo) {
  auto missing = AppConfig::load(main().string());
  ASSERT_TRUE(missing.ok()) << missing.error().describe();
  EXPECT_TRUE(missing->devices.empty());
  EXPECT_NE(missing->files.devices_note.find("does not exist"), std::string::npos)
      << missing->files.devices_note;
  fs::create_directories(dir / "devices.d");
  auto empty = AppConfig::load(main().string());
  ASSERT_TRUE(empty.ok()) << empty.error().describe();
  EXPECT_NE(empty->files.devices_note.find("holds no *.toml files"), std::string::npos)
      << empty->files.devices_note;
}

TEST_F(ConfigDir, DevicesDirPointsElsewhereAndMustExistWhenGiven) {
  write("edgepoll.toml", "[pollers]\ndevices_dir = \"" + (dir / "elsewhere").string() + "\"\n");
  EXPECT_EQ(error().code, "config.devices_dir");
  write("elsewhere/x.toml", device("e1"));
  auto c = AppConfig::load(main().string());
  ASSERT_TRUE(c.ok()) << c.error().describe();
  ASSERT_EQ(c->devices.size(), 1u);
  EXPECT_EQ(c->devices[0]->id, "e1");
}

TEST_F(ConfigDir, ADuplicateIdNamesBothFilesAndLines) {
  write("devices.d/a.toml", device("x1") + device("boiler-1"));
  write("devices.d/b.toml", "\n\n" + device("boiler-1"));
  const Error e = error();
  EXPECT_EQ(e.code, "config.duplicate_device");
  EXPECT_NE(e.message.find("devices.d/a.toml:5"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("devices.d/b.toml:3"), std::string::npos) << e.message;
}

TEST_F(ConfigDir, AnUnknownKeyInADeviceFileNamesFileLineAndKey) {
  write("devices.d/a.toml", device("a1", "colour = \"red\""));
  const Error e = error();
  EXPECT_EQ(e.code, "pollers.config.unknown_key");
  EXPECT_NE(e.message.find((dir / "devices.d/a.toml").string()), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("line 4"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("colour"), std::string::npos) << e.message;
  write("devices.d/a.toml", "[storage]\npath = \"/x\"\n");  // sections belong in the main file
  EXPECT_NE(error().message.find("unknown key \"storage\" (expected one of: device)"),
            std::string::npos);
}

TEST_F(ConfigDir, AWrongTypeNamesFileDeviceKeyAndExpectation) {
  write("devices.d/a.toml", device("a1", "interval = 5"));
  const Error e = error();
  EXPECT_EQ(e.code, "pollers.config.bad_value");
  EXPECT_NE(e.message.find((dir / "devices.d/a.toml").string() + ": [[device]] #1 (line 1)"),
            std::string::npos)
      << e.message;
  EXPECT_NE(e.message.find("key \"interval\" must be a duration string"), std::string::npos)
      << e.message;
}

TEST_F(ConfigDir, AFileThatIsNotTomlNamesFileAndLine) {
  write("devices.d/a.toml", device("a1") + "\nthis is { not toml\n");
  const Error e = error();
  EXPECT_EQ(e.code, "config.syntax");
  EXPECT_EQ(e.message.rfind((dir / "devices.d/a.toml").string() + ":6:", 0), 0u) << e.message;
  EXPECT_NE(e.message.find("not valid TOML"), std::string::npos) << e.message;
}

TEST_F(ConfigDir, AnUnreadableFileIsNamed) {
  fs::create_directories(dir / "devices.d");
  fs::create_symlink(
      dir / "nowhere.toml",
      dir / "devices.d/a.toml");  // root reads any mode: a dangling link cannot be read
  const Error e = error();
  EXPECT_EQ(e.code, "config.unreadable");
  EXPECT_NE(e.message.find((dir / "devices.d/a.toml").string()), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("No such file"), std::string::npos) << e.message;
}

TEST_F(ConfigDir, PollersDefaultsFillWhatADeviceDoesNotSetAndAreValidatedAsDefaults) {
  write("edgepoll.toml", "[pollers]\n[pollers.defaults]\ninterval = \"7s\"\ntimeout = \"1s\"\n");
  write("devices.d/a.toml", device("a1") + device("a2", "interval = \"3s\""));
  auto c = AppConfig::load(main().string());
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ(c->devices[0]->interval, std::chrono::seconds(7));
  EXPECT_EQ(c->devices[1]->interval, std::chrono::seconds(3));
  EXPECT_EQ(c->devices[1]->timeout, std::chrono::seconds(1));
  EXPECT_EQ(c->device_sources.at("a1").keys->at("interval"),
            "edgepoll.toml:3 ([pollers.defaults])");
  EXPECT_EQ(c->device_sources.at("a2").keys->at("interval"), "devices.d/a.toml:8");
  write("edgepoll.toml", "[pollers.defaults]\ninterval = \"soon\"\n");
  EXPECT_NE(error().message.find("[pollers.defaults]"), std::string::npos);
  write("edgepoll.toml", "[pollers]\nbackoff_cap = \"1s\"\nmax_consecutive_failures = 0\n");
  EXPECT_NE(error().message.find(
                "[pollers] max_consecutive_failures (line 3): expected an integer 1..1000"),
            std::string::npos);
  write("edgepoll.toml", "[pollers]\nbackoff_cap = \"1s\"\n");  // below the default base of 10 s
  EXPECT_NE(error().message.find("[pollers] backoff_base: must not exceed backoff_cap"),
            std::string::npos);
  write("edgepoll.toml", "[pollers.defaults]\nurl = \"http://x/\"\n");
  EXPECT_NE(error().message.find("unknown key \"url\""), std::string::npos);
}

}  // namespace
}  // namespace edgepoll::appliance
