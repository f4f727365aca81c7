// The journal fields lifted from today's log lines, and when the journal is used.
#include "edgepoll/appliance/logging.hpp"

#include <sys/stat.h>

#include <cstdlib>

#include <gtest/gtest.h>

namespace edgepoll::appliance {
namespace {

TEST(LogFields, DeviceAndEventWordsOfAPollerLine) {
  EXPECT_EQ(extract_log_fields("device=meter-7 event=quarantined attempt=2 retry_in=20s reason=x"),
            (LogFields{"meter-7", "", "quarantined"}));
}

TEST(LogFields, ASupervisionReportNamesTheSupervisorAndItsDevice) {
  const auto f = extract_log_fields(
      "supervision event=child_restarted supervisor=root/edge/pollers/device:boiler-2 child=connection");
  EXPECT_EQ(f.event, "child_restarted");
  EXPECT_EQ(f.supervisor, "root/edge/pollers/device:boiler-2");
  EXPECT_EQ(f.device, "boiler-2");  // from the device's own subtree
  EXPECT_EQ(extract_log_fields("supervision event=x supervisor=root/edge/pollers/device:b/sub").device, "b");
}

TEST(LogFields, QuotedValuesAndWordsInsideOtherWords) {
  const auto f = extract_log_fields("dlq event=dropped id=3 reason=\"sensor replaced\" mydevice=no device=\"a b\"");
  EXPECT_EQ(f.event, "dropped");
  EXPECT_EQ(f.device, "a b");  // "mydevice=" is not the word device=
  EXPECT_EQ(extract_log_fields("unterminated device=\"abc").device, "abc");
}

TEST(LogFields, ALineWithoutFieldsHasNone) {
  EXPECT_EQ(extract_log_fields("edgepoll running: 3 devices"), LogFields{});
  EXPECT_EQ(extract_log_fields(""), LogFields{});
}

TEST(LogFormat, TextAndJsonOnly) {
  EXPECT_EQ(parse_log_format("text").value(), LogFormat::text);
  EXPECT_EQ(parse_log_format("json").value(), LogFormat::json);
  EXPECT_EQ(parse_log_format("xml").error().code, "usage.log_format");
}

TEST(Journal, UsedOnlyWhenJournalStreamIsOurStderr) {
  struct stat st{};
  ASSERT_EQ(fstat(2, &st), 0);
  ::unsetenv("JOURNAL_STREAM");
  EXPECT_FALSE(stdio_is_journal());
  const std::string ours = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  ::setenv("JOURNAL_STREAM", ours.c_str(), 1);
  EXPECT_TRUE(stdio_is_journal());
  // Inherited from a parent whose stderr went to the journal, ours does not.
  const std::string other = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1000003);
  ::setenv("JOURNAL_STREAM", other.c_str(), 1);
  EXPECT_FALSE(stdio_is_journal());
  ::setenv("JOURNAL_STREAM", "garbage", 1);
  EXPECT_FALSE(stdio_is_journal());
  ::unsetenv("JOURNAL_STREAM");
}

}  // namespace
}  // namespace edgepoll::appliance
