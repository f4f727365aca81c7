#include "edgepoll/kafka/command.hpp"

#include <gtest/gtest.h>

namespace edgepoll::kafka {
namespace {

TEST(Command, ParsesEveryType) {
  auto c = Command::parse(R"({"id":"c1","type":"set_poll_interval","device":"m-1","interval_ms":5000})");
  ASSERT_TRUE(c) << c.error().describe();
  EXPECT_EQ(c->id, "c1");
  EXPECT_EQ(c->type, CommandType::set_poll_interval);
  EXPECT_EQ(c->interval, std::chrono::milliseconds(5000));
  for (auto type : {"enable_device", "disable_device", "remove_device", "poll_now"}) {
    auto d = Command::parse(std::string(R"({"type":")") + type + R"(","device":"m-1"})");
    ASSERT_TRUE(d) << type << ": " << d.error().describe();
    EXPECT_EQ(to_string(d->type), type);
    EXPECT_EQ(d->device, "m-1");
  }
  for (auto type : {"add_device", "replace_device"}) {
    auto d = Command::parse(std::string(R"({"type":")") + type +
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
           Case{R"({"device":"m"})", "\"type\""},
           Case{R"({"type":"reboot","device":"m"})", "\"type\""},
           Case{R"({"type":"poll_now"})", "\"device\""},
           Case{R"({"type":"poll_now","device":"bad id with spaces"})", "\"device\""},
           Case{R"({"type":"poll_now","device":"m","id":7})", "\"id\""},
           Case{R"({"type":"set_poll_interval","device":"m"})", "\"interval_ms\""},
           Case{R"({"type":"set_poll_interval","device":"m","interval_ms":"5s"})", "\"interval_ms\""},
           Case{R"({"type":"set_poll_interval","device":"m","interval_ms":5})", "\"interval_ms\""},
           Case{R"({"type":"add_device","device":"m"})", "\"config\""},
           Case{R"({"type":"add_device","device":"m","config":[]})", "\"config\""},
           Case{R"({"type":"poll_now","device":"m","interval_ms":1000})", "\"interval_ms\""},
           Case{R"([1,2])", "(message)"},
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

}  // namespace
}  // namespace edgepoll::kafka
