// DeviceStateMachine: states, counters and sequence numbers on the FakeClock.
#include <gtest/gtest.h>

#include "edgepoll/pollers/device_state_machine.hpp"

namespace edgepoll::pollers {
namespace {

using namespace std::chrono_literals;
using supervision::FakeClock;
using State = DeviceStateMachine::State;

DeviceConfig config() {
  DeviceConfig c;
  c.id = "boiler-1";
  c.url = "http://127.0.0.1/devices/boiler-1";
  c.breaker.failure_threshold = 2;
  c.breaker.open_for = 10s;
  c.breaker.slow_latency = 1s;
  c.breaker.slow_count = 1;
  c.metrics = {{"/t", "temp", MetricType::number, "degC"}, {"/on", "on", MetricType::boolean, ""}};
  return c;
}

Result<FetchResponse> body(std::string text, supervision::Duration elapsed = 5ms) {
  return FetchResponse{200, std::move(text), elapsed, 0};
}
Result<FetchResponse> timeout() {
  return make_error("pollers.http.timeout", "device \"boiler-1\": timed out", true);
}

TEST(DeviceStateMachine, GoodPollsEmitTheirReadingsWithDeviceAndTime) {
  FakeClock clock;
  DeviceStateMachine m(clock, config());
  EXPECT_EQ(m.state(), State::connecting);
  ASSERT_TRUE(m.begin_poll());
  auto r1 = m.on_response(body(R"({"t": 20.5, "on": true})"), 1000);
  ASSERT_TRUE(m.begin_poll());
  auto r2 = m.on_response(body(R"({"t": 21.0, "on": false})"), 2000);
  EXPECT_EQ(m.state(), State::polling);
  ASSERT_EQ(r1.readings.size(), 2u);
  ASSERT_EQ(r2.readings.size(), 2u);
  EXPECT_EQ(r2.readings[0].device_id, "boiler-1");
  EXPECT_EQ(r2.readings[0].timestamp_ms, 2000);
  EXPECT_EQ(m.counters().succeeded, 2u);
}

TEST(DeviceStateMachine, NeverTwoPollsInFlight) {
  FakeClock clock;
  DeviceStateMachine m(clock, config());
  ASSERT_TRUE(m.begin_poll());
  EXPECT_FALSE(m.begin_poll());
  EXPECT_EQ(m.counters().skipped_in_flight, 1u);
  (void)m.on_response(timeout(), 0);
  EXPECT_TRUE(m.begin_poll());
}

TEST(DeviceStateMachine, FailuresDegradeThenBackOffUntilTheProbeSucceeds) {
  FakeClock clock;
  DeviceStateMachine m(clock, config());
  ASSERT_TRUE(m.begin_poll());
  (void)m.on_response(body(R"({"t": 1, "on": true})"), 0);
  ASSERT_TRUE(m.begin_poll());
  auto failed = m.on_response(timeout(), 0);
  ASSERT_TRUE(failed.error.has_value());
  EXPECT_EQ(m.state(), State::degraded);
  ASSERT_TRUE(m.begin_poll());
  (void)m.on_response(timeout(), 0);
  EXPECT_EQ(m.state(), State::backoff);
  EXPECT_FALSE(m.begin_poll());
  EXPECT_EQ(m.counters().skipped_open, 1u);
  clock.advance(10s);
  ASSERT_TRUE(m.begin_poll());
  (void)m.on_response(body(R"({"t": 2, "on": true})"), 0);
  EXPECT_EQ(m.state(), State::polling);
  EXPECT_EQ(m.counters().errors_by_code.at("pollers.http.timeout"), 2u);
}

TEST(DeviceStateMachine, SlowOrPartialAnswersAreDegraded) {
  FakeClock clock;
  DeviceStateMachine m(clock, config());
  ASSERT_TRUE(m.begin_poll());
  auto partial = m.on_response(body(R"({"t": 1})"), 0);
  EXPECT_EQ(m.state(), State::degraded);
  EXPECT_EQ(partial.readings.size(), 1u);
  EXPECT_EQ(partial.field_errors.size(), 1u);
  ASSERT_TRUE(m.begin_poll());
  (void)m.on_response(body(R"({"t": 1, "on": true})", 3s), 0);
  EXPECT_EQ(m.state(), State::degraded);  // slowed by latency
  EXPECT_EQ(m.breaker().interval_factor(), 2.0);
}

TEST(DeviceStateMachine, RepeatedUndecodableBodiesAskToGiveUp) {
  FakeClock clock;
  DeviceStateMachine m(clock, config(), 3);
  std::vector<bool> give_up;
  for (int i = 0; i < 3; ++i) {
    clock.advance(1h);  // past any open breaker
    ASSERT_TRUE(m.begin_poll());
    auto r = m.on_response(body("\xff garbage"), 0);
    ASSERT_TRUE(r.error.has_value());
    EXPECT_EQ(r.error->code, "pollers.decode.non_utf8");
    give_up.push_back(r.give_up);
  }
  EXPECT_EQ(give_up, (std::vector<bool>{false, false, true}));
  EXPECT_EQ(m.counters().decode_errors, 3u);
}

TEST(DeviceStateMachine, ConnectionLossKeepsCounters) {
  FakeClock clock;
  DeviceStateMachine m(clock, config());
  ASSERT_TRUE(m.begin_poll());
  (void)m.on_response(body(R"({"t": 1, "on": true})"), 0);
  ASSERT_TRUE(m.begin_poll());
  m.on_connection_lost();  // the poll in flight died with the connection
  EXPECT_EQ(m.state(), State::connecting);
  ASSERT_TRUE(m.begin_poll());
  auto r = m.on_response(body(R"({"t": 2, "on": true})"), 0);
  EXPECT_EQ(r.readings.size(), 2u);
  EXPECT_EQ(m.counters().polls, 3u);
}

// The breaker's job first: failures open it and ticks are skipped; only N
// failed half-open probes in a row make the machine give up (an fsm crash).
TEST(DeviceStateMachine, TransportFailuresOpenTheBreakerAndOnlyNFailedProbesGiveUp) {
  FakeClock clock;
  DeviceStateMachine m(clock, config(), /*max_consecutive_failures=*/2);
  for (int i = 0; i < 2; ++i) {  // failure_threshold = 2
    ASSERT_TRUE(m.begin_poll());
    EXPECT_FALSE(m.on_response(timeout(), 0).give_up);
  }
  EXPECT_EQ(m.breaker().state(), BreakerState::open);
  // Open: every tick is skipped and counted, nothing gives up.
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(m.begin_poll());
  EXPECT_EQ(m.counters().skipped_open, 5u);
  clock.advance(10s);
  ASSERT_TRUE(m.begin_poll());  // the half-open probe
  EXPECT_EQ(m.breaker().state(), BreakerState::half_open);
  EXPECT_FALSE(m.on_response(timeout(), 0).give_up);  // failed probe 1: open again (20 s)
  EXPECT_EQ(m.breaker().state(), BreakerState::open);
  clock.advance(10s);
  EXPECT_FALSE(m.begin_poll());  // still open: the open time doubled
  clock.advance(10s);
  ASSERT_TRUE(m.begin_poll());
  EXPECT_TRUE(m.on_response(timeout(), 0).give_up);  // failed probe 2 = N
  EXPECT_EQ(m.counters().failed_probes, 2u);
}

TEST(DeviceStateMachine, ASucceedingProbeClosesTheBreakerAndForgetsFailedProbes) {
  FakeClock clock;
  DeviceStateMachine m(clock, config(), 2);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(m.begin_poll());
    (void)m.on_response(timeout(), 0);
  }
  clock.advance(10s);
  ASSERT_TRUE(m.begin_poll());
  EXPECT_FALSE(m.on_response(timeout(), 0).give_up);  // failed probe 1
  clock.advance(20s);
  ASSERT_TRUE(m.begin_poll());
  (void)m.on_response(body(R"({"t": 1, "on": true})"), 0);  // the probe succeeds
  EXPECT_EQ(m.breaker().state(), BreakerState::closed);
  EXPECT_EQ(m.state(), State::polling);
  // A new episode starts from zero failed probes: one more failed probe is not N.
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(m.begin_poll());
    (void)m.on_response(timeout(), 0);
  }
  clock.advance(10s);
  ASSERT_TRUE(m.begin_poll());
  EXPECT_FALSE(m.on_response(timeout(), 0).give_up);
}

TEST(DeviceStateMachine, AProbeThatNeverReachedTheDeviceLetsTheNextTickProbe) {
  FakeClock clock;
  DeviceStateMachine m(clock, config(), 2);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(m.begin_poll());
    (void)m.on_response(timeout(), 0);
  }
  clock.advance(10s);
  ASSERT_TRUE(m.begin_poll());
  m.on_connection_lost();  // the connection was busy or restarting
  EXPECT_TRUE(m.begin_poll());  // without abandon() the breaker would wait for an answer forever
}

}  // namespace
}  // namespace edgepoll::pollers
