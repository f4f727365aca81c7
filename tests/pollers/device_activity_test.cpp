// DeviceActivity: which enabled devices polled well within their last intervals.
#include <gtest/gtest.h>

#include "edgepoll/pollers/device_activity.hpp"

namespace edgepoll::pollers {
namespace {
using namespace std::chrono_literals;
using supervision::TimePoint;

TEST(DeviceActivity, APollOlderThanTheWindowIsNotPolling) {
  DeviceActivity a;
  a.set_devices({{"fast", 1s, false, false}, {"slow", 10s, false, false}});
  const TimePoint t0{1000s};
  a.polled("fast", t0);
  a.polled("slow", t0);
  auto s = a.summary(t0 + 3s, 3);
  EXPECT_EQ(s.enabled, 2u);
  EXPECT_EQ(s.polling, 2u);
  s = a.summary(t0 + 3s + 1ms, 3);  // fast: past 3 x 1 s; slow: within 3 x 10 s
  EXPECT_EQ(s.polling, 1u);
}

TEST(DeviceActivity, NeverPolledQuarantinedAndDisabledDevicesAreNotPolling) {
  DeviceActivity a;
  const TimePoint t0{1000s};
  a.set_devices({{"new", 1s, false, false}, {"q", 1s, false, true}, {"off", 1s, true, false}});
  a.polled("q", t0);
  a.polled("off", t0);
  const auto s = a.summary(t0, 3);
  EXPECT_EQ(s.configured, 3u);
  EXPECT_EQ(s.enabled, 2u);  // disabled by an operator: not expected to poll
  EXPECT_EQ(s.disabled, 1u);
  EXPECT_EQ(s.quarantined, 1u);
  EXPECT_EQ(s.polling, 0u);
}

TEST(DeviceActivity, ANewListKeepsLastPollsAndDropsRemovedDevices) {
  DeviceActivity a;
  const TimePoint t0{1000s};
  a.set_devices({{"a", 1s, false, false}, {"b", 1s, false, false}});
  a.polled("a", t0);
  a.polled("b", t0);
  a.set_devices({{"a", 2s, false, false}});
  a.polled("gone", t0);  // a late poll of a removed device is ignored
  const auto s = a.summary(t0 + 5s, 3);  // a's new interval: 3 x 2 s
  EXPECT_EQ(s.configured, 1u);
  EXPECT_EQ(s.polling, 1u);
}

TEST(DeviceActivity, OneDeviceChangesAloneAndKeepsItsLastPoll) {
  DeviceActivity a;
  const TimePoint t0{1000s};
  a.set_device({"a", 1s, false, false});
  a.set_device({"b", 1s, false, false});
  a.polled("a", t0);
  a.set_device({"a", 1s, false, true});  // quarantined
  EXPECT_EQ(a.summary(t0, 3).quarantined, 1u);
  EXPECT_EQ(a.summary(t0, 3).polling, 0u);
  a.set_device({"a", 1s, false, false});  // started again: its last good poll still counts
  EXPECT_EQ(a.summary(t0, 3).polling, 1u);
  a.remove("b");
  EXPECT_EQ(a.summary(t0, 3).configured, 1u);
}

}  // namespace
}  // namespace edgepoll::pollers
