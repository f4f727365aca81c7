// The control socket's request parser: every refusal has its named error.
#include "edgepoll/appliance/control_request.hpp"

#include "edgepoll/appliance/app_config.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace edgepoll::appliance {
namespace {

std::string code_of(std::string_view line) {
  auto r = ControlRequest::parse(line);
  return r.ok() ? "ok" : r.error().code;
}

TEST(ControlRequest, DeviceOperationsNameTheDevice) {
  auto r = ControlRequest::parse(R"({"op": "device.poll_now", "device": "meter-7"})");
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->op, ControlOp::device_poll_now);
  EXPECT_EQ(r->device, "meter-7");
  EXPECT_EQ(ControlRequest::parse(R"({"op": "device.enable", "device": "a"})")->op, ControlOp::device_enable);
  EXPECT_EQ(ControlRequest::parse(R"({"op": "device.disable", "device": "a"})")->op, ControlOp::device_disable);
}

TEST(ControlRequest, DeadLetterOperationsTakeAKeyOrAll) {
  auto one = ControlRequest::parse(R"({"op": "dlq.replay", "key": "12"})");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->key, "12");
  EXPECT_FALSE(one->all);
  auto all = ControlRequest::parse(R"({"op": "dlq.drop", "all": true, "reason": "sensor replaced"})");
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->all);
  EXPECT_EQ(all->reason, "sensor replaced");
}

TEST(ControlRequest, ConfigShowTakesAnOptionalDevice) {
  auto whole = ControlRequest::parse(R"({"op": "config.show"})");
  ASSERT_TRUE(whole.ok()) << whole.error().describe();
  EXPECT_EQ(whole->op, ControlOp::config_show);
  EXPECT_EQ(whole->device, "");
  auto one = ControlRequest::parse(R"({"op": "config.show", "device": "meter-7"})");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->device, "meter-7");
  EXPECT_EQ(code_of(R"({"op": "config.show", "device": ""})"), "control.type");
  EXPECT_EQ(code_of(R"({"op": "config.show", "all": true})"), "control.unknown_field");
}

TEST(ControlRequest, OverlayClearTakesADeviceOrAllNeverBothNorNeither) {
  auto one = ControlRequest::parse(R"({"op": "config.overlay_clear", "device": "meter-7"})");
  ASSERT_TRUE(one.ok()) << one.error().describe();
  EXPECT_EQ(one->op, ControlOp::config_overlay_clear);
  EXPECT_EQ(one->device, "meter-7");
  EXPECT_FALSE(one->all);
  auto all = ControlRequest::parse(R"({"op": "config.overlay_clear", "all": true})");
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->all);
  EXPECT_EQ(all->device, "");
  EXPECT_EQ(code_of(R"({"op": "config.overlay_clear"})"), "control.missing_field");
  EXPECT_EQ(code_of(R"({"op": "config.overlay_clear", "all": true, "device": "a"})"), "control.type");
  EXPECT_EQ(code_of(R"({"op": "config.overlay_clear", "all": false})"), "control.type");
  EXPECT_EQ(code_of(R"({"op": "config.overlay_clear", "key": "a"})"), "control.unknown_field");
}

TEST(ControlRequest, BytesThatAreNotAJsonObjectAreMalformed) {
  EXPECT_EQ(code_of("garbage"), "control.malformed");
  EXPECT_EQ(code_of(""), "control.malformed");
  EXPECT_EQ(code_of("[1, 2]"), "control.malformed");
  EXPECT_EQ(code_of("{\"op\": \"device.enable\""), "control.malformed");
  EXPECT_EQ(code_of(std::string("{\"op\":\"\xff\xfe\"}")), "control.malformed");  // not UTF-8
}

TEST(ControlRequest, UnknownOperationsAndFieldsAreRefusedByName) {
  EXPECT_EQ(code_of(R"({"op": "device.remove", "device": "a"})"), "control.unknown_op");
  EXPECT_EQ(code_of(R"({"device": "a"})"), "control.missing_field");
  auto r = ControlRequest::parse(R"({"op": "device.enable", "device": "a", "force": true})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "control.unknown_field");
  EXPECT_NE(r.error().message.find("\"force\""), std::string::npos);
  // A field of another operation is unknown here too.
  EXPECT_EQ(code_of(R"({"op": "dlq.replay", "key": "1", "reason": "x"})"), "control.unknown_field");
}

TEST(ControlRequest, MissingAndMistypedFieldsAreNamed) {
  EXPECT_EQ(code_of(R"({"op": "device.enable"})"), "control.missing_field");
  EXPECT_EQ(code_of(R"({"op": "device.enable", "device": 7})"), "control.type");
  EXPECT_EQ(code_of(R"({"op": "device.enable", "device": ""})"), "control.type");
  EXPECT_EQ(code_of(R"({"op": "dlq.replay"})"), "control.missing_field");
  EXPECT_EQ(code_of(R"({"op": "dlq.replay", "all": false})"), "control.type");
  EXPECT_EQ(code_of(R"({"op": "dlq.replay", "all": true, "key": "1"})"), "control.type");
  EXPECT_EQ(code_of(R"({"op": "dlq.drop", "key": "1"})"), "control.missing_field");
}

TEST(ControlRequest, AnErrorAnswerCarriesCodeMessageAndHint) {
  const auto a = control_error(make_error("control.unknown_op", "unknown op", false, "see the list"));
  EXPECT_EQ(a["ok"], false);
  EXPECT_EQ(a["error"]["code"], "control.unknown_op");
  EXPECT_EQ(a["error"]["hint"], "see the list");
  EXPECT_EQ(control_ok()["ok"], true);
}

}  // namespace
}  // namespace edgepoll::appliance

namespace edgepoll::appliance {
namespace {

TEST(ControlConfig, DefaultsAreTheRuntimeDirectoryAndTheEdgepollGroup) {
  auto c = AppConfig::parse("[storage]\npath = \"/tmp/x.db\"\n", "e.toml");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->control.socket, "/run/edgepoll/control.sock");
  EXPECT_EQ(c->control.group, "edgepoll");
  EXPECT_EQ(c->control.max_request_bytes, 4096u);
}

TEST(ControlConfig, BadKeysAndValuesNameTheFileLineAndKey) {
  auto unknown = AppConfig::parse("[control]\nsocket = \"/tmp/c.sock\"\nmode = 438\n", "e.toml");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message,
            "e.toml: [control] line 3: unknown key \"mode\" (expected one of: socket, group, max_request_bytes)");
  auto relative = AppConfig::parse("[control]\nsocket = \"control.sock\"\n", "e.toml");
  ASSERT_FALSE(relative.ok());
  EXPECT_NE(relative.error().message.find("[control] socket (line 2): expected an absolute path"), std::string::npos);
  auto too_long = AppConfig::parse("[control]\nsocket = \"/" + std::string(120, 'a') + "\"\n", "e.toml");
  EXPECT_FALSE(too_long.ok());
  auto tiny = AppConfig::parse("[control]\nmax_request_bytes = 10\n", "e.toml");
  ASSERT_FALSE(tiny.ok());
  EXPECT_NE(tiny.error().message.find("expected an integer 256..1048576"), std::string::npos);
}

}  // namespace
}  // namespace edgepoll::appliance
