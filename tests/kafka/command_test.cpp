#include "edgepoll/kafka/command.hpp"

#include <gtest/gtest.h>

namespace edgepoll::kafka {
namespace {

TEST(Command, ParsesEveryType) {
  auto c = Command::parse(R"({"node":"n1","id":"c1","type":"set_poll_interval","device":"m-1","interval_ms":5000})");
  ASSERT_TRUE(c) << c.error().describe();
  EXPECT_EQ(c->id, "c1");
  EXPECT_EQ(c->type, CommandType::set_poll_interval);
  EXPECT_EQ(c->interval, std::chrono::milliseconds(5000));
  for (auto type : {"enable_device", "disable_device", "remove_device", "poll_now"}) {
    auto d = Command::parse(std::string(R"({"node":"n1","type":")") + type + R"(","device":"m-1"})");
    ASSERT_TRUE(d) << type << ": " << d.error().describe();
    EXPECT_EQ(to_string(d->type), type);
    EXPECT_EQ(d->device, "m-1");
  }
  for (auto type : {"add_device", "replace_device"}) {
    auto d = Command::parse(std::string(R"({"node":"n1","type":")") + type +
                            R"(","device":"m-2","config":{"url":"http://x","interval_ms":1000}})");
    ASSERT_TRUE(d) << type << ": " << d.error().describe();
    EXPECT_EQ(d->device_config, R"({"interval_ms":1000,"url":"http://x"})");
  }
}

TEST(Command, ErrorsNameTheField) {
  struct Case {
    const char* json;
    const char* field;
  };
  for (auto [json, field] : {
           Case{R"({"node":"n1","device":"m"})", "\"type\""},
           Case{R"({"node":"n1","type":"reboot","device":"m"})", "\"type\""},
           Case{R"({"node":"n1","type":"poll_now"})", "\"device\""},
           Case{R"({"node":"n1","type":"poll_now","device":"bad id with spaces"})", "\"device\""},
           Case{R"({"node":"n1","type":"poll_now","device":"m","id":7})", "\"id\""},
           Case{R"({"node":"n1","type":"set_poll_interval","device":"m"})", "\"interval_ms\""},
           Case{R"({"node":"n1","type":"set_poll_interval","device":"m","interval_ms":"5s"})", "\"interval_ms\""},
           Case{R"({"node":"n1","type":"set_poll_interval","device":"m","interval_ms":5})", "\"interval_ms\""},
           Case{R"({"node":"n1","type":"add_device","device":"m"})", "\"config\""},
           Case{R"({"node":"n1","type":"add_device","device":"m","config":[]})", "\"config\""},
           Case{R"({"node":"n1","type":"poll_now","device":"m","interval_ms":1000})", "\"interval_ms\""},
           Case{R"([1,2])", "(message)"},
           // No address: refused, not applied everywhere.
           Case{R"({"type":"poll_now","device":"m"})", "\"node\""},
           Case{R"({"node":"","type":"poll_now","device":"m"})", "\"node\""},
           Case{R"({"node":7,"type":"poll_now","device":"m"})", "\"node\""},
           Case{R"({"node":"a b","type":"poll_now","device":"m"})", "\"node\""},
       }) {
    auto c = Command::parse(json);
    ASSERT_FALSE(c) << json;
    EXPECT_EQ(c.error().code, "command.invalid") << json;
    EXPECT_NE(c.error().message.find(field), std::string::npos)
        << json << " -> " << c.error().message;
  }
}

TEST(Command, GarbageNeverThrows) {
  for (std::string_view bytes : {"", "{", "\xff\xfe", "null", "{\"type\":", "{}}"}) {
    auto c = Command::parse(bytes);
    ASSERT_FALSE(c);
    EXPECT_TRUE(c.error().code == "command.unparsable" || c.error().code == "command.invalid");
  }
}

TEST(Command, IsAddressedToItsNodeOrToEveryNode) {
  auto own = Command::parse(R"({"node":"site-a","type":"poll_now","device":"m"})");
  ASSERT_TRUE(own) << own.error().describe();
  EXPECT_EQ(own->node, "site-a");
  EXPECT_TRUE(own->addressed_to("site-a"));
  EXPECT_FALSE(own->addressed_to("site-b"));
  EXPECT_FALSE(own->addressed_to("site"));
  auto all = Command::parse(R"({"node":"*","type":"poll_now","device":"m"})");
  ASSERT_TRUE(all) << all.error().describe();
  EXPECT_TRUE(all->addressed_to("site-a"));
  EXPECT_TRUE(all->addressed_to("site-b"));
}

}  // namespace
}  // namespace edgepoll::kafka
