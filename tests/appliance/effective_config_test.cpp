// The effective config = files + overlay: precedence, provenance, and what a
// change or a clear does.
#include "edgepoll/appliance/effective_config.hpp"

#include <gtest/gtest.h>

namespace edgepoll::appliance {
namespace {
using namespace std::chrono_literals;

AppConfig files_with(const std::vector<std::string>& ids) {
  std::string text = "[pollers.defaults]\ntimeout = \"1s\"\n\n";
  for (const auto& id : ids)
    text += "[[device]]\nid = \"" + id + "\"\nurl = \"http://127.0.0.1:1/" + id +
            "\"\ninterval = \"10s\"\n\n";
  auto c = AppConfig::parse(text, "/etc/edgepoll/edgepoll.toml");
  EXPECT_TRUE(c.ok()) << c.error().describe();
  return c.value();
}

kafka::Command command(kafka::CommandType type, const std::string& device,
                       const std::string& id = "c-17") {
  kafka::Command c;
  c.id = id;
  c.type = type;
  c.device = device;
  c.source = "edgepoll.commands/0/4411";
  return c;
}

const CommandOrigin kOrigin{"c-17", "edgepoll.commands/0/4411", "2026-11-30T10:02:11Z"};

TEST(EffectiveConfig, WithoutOverlayItIsTheFilesWithTheirLines) {
  const auto e = build_effective(files_with({"a", "b"}), Overlay{});
  ASSERT_EQ(e.devices.size(), 2u);
  EXPECT_EQ(e.devices[1].defined_at, "edgepoll.toml:9");
  EXPECT_EQ(e.devices[1].keys->at("interval"), "edgepoll.toml:12");
  EXPECT_EQ(e.devices[1].keys->at("timeout"), "edgepoll.toml:2 ([pollers.defaults])");
  EXPECT_TRUE(e.notes.empty());
}

// An overlay in which a command (kOrigin) set device `id`'s interval to 2.5 s.
Overlay interval_set_by_command(const AppConfig& files, const std::string& id) {
  Overlay o;
  auto set = command(kafka::CommandType::set_poll_interval, id);
  set.interval = 2500ms;
  EXPECT_TRUE(apply_command(o, build_effective(files, o), set, kOrigin).ok());
  return o;
}

TEST(EffectiveConfig, TheOverlayWinsForTheFieldsItTouchesAndNamesTheCommand) {
  const auto files = files_with({"a", "b"});
  Overlay o = interval_set_by_command(files, "a");
  ASSERT_TRUE(apply_command(o, build_effective(files, o),
                            command(kafka::CommandType::disable_device, "b"), kOrigin)
                  .ok());
  const auto e = build_effective(files, o);
  EXPECT_EQ(e.find("a")->config->interval, 2500ms);
  EXPECT_EQ(e.find("a")->keys->at("interval"),
            "command c-17, edgepoll.commands/0/4411, 2026-11-30T10:02:11Z");
  EXPECT_EQ(e.find("a")->keys->at("url"),
            "edgepoll.toml:6");  // untouched fields keep the files' say
  EXPECT_FALSE(e.find("b")->enabled);
  EXPECT_EQ(e.to_apply().disabled, std::set<std::string>{"b"});
  // A reload of the same files keeps the overlay: still disabled, still 2.5 s.
  const auto again = build_effective(files_with({"a", "b"}), o);
  EXPECT_TRUE(diff_devices(e, again).empty());
}

// 10,000 devices: the files' configs and key origins are held once, by the
// files, the effective config and the config manager's list alike; a command
// copies only the device it changes, and never writes into the files' copy.
TEST(EffectiveConfig, SharesTheFilesConfigsAndCopiesOnlyWhatACommandChanges) {
  const auto files = files_with({"a", "b"});
  const Overlay o = interval_set_by_command(files, "a");
  const auto e = build_effective(files, o);
  const auto applied = e.to_apply();
  ASSERT_EQ(applied.devices.size(), 2u);

  EXPECT_EQ(e.find("b")->config.get(), files.devices[1].get());
  EXPECT_EQ(e.find("b")->keys.get(), files.device_sources.at("b").keys.get());
  EXPECT_EQ(applied.devices[1].get(), files.devices[1].get());

  EXPECT_NE(e.find("a")->config.get(), files.devices[0].get());
  EXPECT_EQ(applied.devices[0].get(), e.find("a")->config.get());
  EXPECT_EQ(e.find("a")->config->interval, 2500ms);
  EXPECT_EQ(files.devices[0]->interval, 10s);
  EXPECT_EQ(files.device_sources.at("a").keys->at("interval"), "edgepoll.toml:7");
  EXPECT_EQ(e.find("a")->keys->at("interval"), kOrigin.describe());
}

TEST(EffectiveConfig, ADeviceAddedByCommandStaysWhenTheFilesDoNotHaveItAndSaysSo) {
  Overlay o;
  auto add = command(kafka::CommandType::add_device, "new-1");
  add.device_config = R"({"url": "http://127.0.0.1:1/new-1", "interval": "3s"})";
  ASSERT_TRUE(apply_command(o, build_effective(files_with({"a"}), o), add, kOrigin).ok());
  const auto e = build_effective(files_with({"a"}), o);
  const auto* d = e.find("new-1");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->defined_at, "added by " + kOrigin.describe() + "; not in the files");
  EXPECT_EQ(d->keys->at("interval"), kOrigin.describe());
  EXPECT_EQ(d->config->timeout, 1s);  // [pollers.defaults] apply to it as well
  EXPECT_EQ(d->keys->at("timeout"), "edgepoll.toml:2 ([pollers.defaults])");
  EXPECT_EQ(diff_devices(build_effective(files_with({"a"}), {}), e).added,
            std::vector<std::string>{"new-1"});
}

TEST(EffectiveConfig, RemoveHidesAFileDeviceUntilCleared) {
  const auto files = files_with({"a", "b"});
  Overlay o;
  ASSERT_TRUE(apply_command(o, build_effective(files, o),
                            command(kafka::CommandType::remove_device, "a"), kOrigin)
                  .ok());
  auto e = build_effective(files, o);
  EXPECT_EQ(e.find("a"), nullptr);
  ASSERT_EQ(e.notes.size(), 1u);
  EXPECT_NE(e.notes[0].find("removed by command c-17"), std::string::npos) << e.notes[0];
  o.devices.erase("a");  // what ClearOverlay does
  EXPECT_NE(build_effective(files, o).find("a"), nullptr);
}

TEST(EffectiveConfig, CommandsForUnknownDevicesOrWithBadConfigsAreRefusedAndChangeNothing) {
  const auto files = files_with({"a"});
  Overlay o;
  auto s = apply_command(o, build_effective(files, o),
                         command(kafka::CommandType::disable_device, "ghost"), kOrigin);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "command.unknown_device");
  auto add = command(kafka::CommandType::add_device, "x");
  add.device_config = R"({"url": "ftp://nope"})";
  s = apply_command(o, build_effective(files, o), add, kOrigin);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "command.invalid");
  EXPECT_TRUE(o.devices.empty());
}

TEST(EffectiveConfig, TheOverlayRoundTripsThroughJson) {
  Overlay o;
  auto add = command(kafka::CommandType::add_device, "x");
  add.device_config = R"({"url": "http://127.0.0.1:1/x"})";
  ASSERT_TRUE(apply_command(o, build_effective(files_with({}), o), add, kOrigin).ok());
  ASSERT_TRUE(apply_command(o, build_effective(files_with({}), o),
                            command(kafka::CommandType::disable_device, "x"), kOrigin)
                  .ok());
  auto back = Overlay::from_json(nlohmann::json::parse(o.to_json().dump()));
  ASSERT_TRUE(back.ok()) << back.error().describe();
  EXPECT_EQ(back->to_json(), o.to_json());
  EXPECT_FALSE(build_effective(files_with({}), back.value()).find("x")->enabled);
  EXPECT_FALSE(Overlay::from_json(nlohmann::json::parse(R"({"x": {"enabled": "yes"}})")).ok());
}

}  // namespace
}  // namespace edgepoll::appliance
