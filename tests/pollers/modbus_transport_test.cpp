// ModbusTcpTransport against device-sim's Modbus mode over real sockets: each
// misbehaviour of a unit comes back as its named error while a good unit on the
// same gateway connection keeps being answered; connections are shared per
// gateway and re-established after they die.
#include "edgepoll/pollers/modbus/modbus_transport.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <map>
#include <optional>

#include "support/child_process.hpp"

namespace edgepoll::pollers {
namespace {
using namespace std::chrono_literals;

struct Sim {
  testing::ChildProcess process;
  std::uint16_t port = 0;
  explicit Sim(std::vector<std::string> args)
      : process(DEVICE_SIM_PATH, with_defaults(std::move(args))) {
    auto line = process.wait_for_line(
        [](const std::string& l) { return l.rfind("listening=", 0) == 0; }, 10s);
    if (!line) throw std::runtime_error("device-sim did not start");
    port = static_cast<std::uint16_t>(std::stoi(line->substr(line->rfind(':') + 1)));
  }
  static std::vector<std::string> with_defaults(std::vector<std::string> args) {
    if (std::find(args.begin(), args.end(), "--listen") == args.end())
      args.insert(args.begin(), {"--listen", "127.0.0.1:0"});
    args.insert(args.begin(), "--modbus");
    return args;
  }
};

struct Transport : ::testing::Test {
  boost::asio::io_context io;
  ModbusTcpTransport transport{io, ModbusTransportOptions{1s, 20ms, 200ms}};

  // Runs the loop until every read answered (or 10 s passed).
  std::vector<std::optional<Result<ModbusReply>>> run(GatewayId g,
                                                      const std::vector<ModbusRead>& reads) {
    std::vector<std::optional<Result<ModbusReply>>> out(reads.size());
    std::size_t left = reads.size();
    for (std::size_t i = 0; i < reads.size(); ++i)
      transport.read(g, reads[i], [&, i](Result<ModbusReply> r) {
        out[i].emplace(std::move(r));
        --left;
      });
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (left > 0 && std::chrono::steady_clock::now() < deadline) io.run_for(20ms);
    return out;
  }
};

ModbusRead holding(std::uint8_t unit, std::uint16_t address = 0, std::uint16_t count = 10) {
  return ModbusRead{unit, ModbusTable::holding, address, count, 400ms};
}

TEST_F(Transport, ReadsChangingRegistersAndBitsOfManyUnitsOverOneConnection) {
  Sim sim({"--units", "50"});
  const GatewayId g = transport.gateway("127.0.0.1", sim.port, 4);
  EXPECT_EQ(transport.gateway("127.0.0.1", sim.port, 1), g);  // the same gateway, shared
  std::vector<ModbusRead> reads;
  for (std::uint8_t u = 1; u <= 50; ++u) reads.push_back(holding(u));
  reads.push_back(ModbusRead{3, ModbusTable::coil, 0, 16, 400ms});
  const auto results = run(g, reads);
  for (std::size_t i = 0; i < 50; ++i) {
    ASSERT_TRUE(results[i] && results[i]->ok()) << i;
    const auto& v = (*results[i])->values;
    ASSERT_EQ(v.size(), 10u);
    for (std::size_t a = 1; a < v.size(); ++a)
      EXPECT_EQ(static_cast<std::uint16_t>(v[a] - v[0]), 7 * a);
  }
  ASSERT_TRUE(results[50] && results[50]->ok());
  EXPECT_EQ((*results[50])->values.size(), 16u);
  EXPECT_EQ(transport.stats().connects.load(), 1u);
  EXPECT_EQ(transport.gateways(), 1u);
}

const std::vector<std::string> kMisbehaving{
    "--units",     "20",          "--unit",         "2=exception:2", "--unit",
    "3=hang",      "--unit",      "4=reset",        "--unit",        "5=garbage",
    "--unit",      "6=wrong_tid", "--unit",         "7=short",       "--unit",
    "8=oversized", "--unit",      "9=exception:11", "--unit",        "10=slow:100ms"};
const std::map<std::uint8_t, std::string> kExpected{
    {2, "pollers.modbus.illegal_data_address"},
    {3, "pollers.modbus.timeout"},
    {4, "pollers.modbus.connection_lost"},
    {5, "pollers.modbus.bad_protocol_id"},
    {6, "pollers.modbus.wrong_transaction_id"},
    {7, "pollers.modbus.timeout"},
    {8, "pollers.modbus.oversized_length"},
    {9, "pollers.modbus.gateway_target_device_failed_to_respond"},
    {99, "pollers.modbus.timeout"},  // a unit id the gateway lacks: no answer at all
};

void expect_named_errors_and_good_answers(Transport& t, GatewayId g, bool with_short) {
  for (const auto& [unit, code] : kExpected) {
    if (unit == 7 && !with_short) continue;
    SCOPED_TRACE("unit " + std::to_string(unit));
    auto good = holding(1);
    good.timeout = 2s;  // with one request outstanding it waits for the bad one's timeout
    const auto r = t.run(g, {holding(unit), good});
    ASSERT_TRUE(r[0] && r[1]);
    ASSERT_FALSE(r[0]->ok()) << "answered";
    EXPECT_EQ(r[0]->error().code, code) << r[0]->error().describe();
    EXPECT_NE(r[0]->error().message.find("unit " + std::to_string(unit)), std::string::npos)
        << r[0]->error().message;
    EXPECT_TRUE(r[1]->ok()) << r[1]->error().describe();
  }
  const auto slow = t.run(g, {holding(10), holding(1)});
  ASSERT_TRUE(slow[0] && slow[0]->ok());
  EXPECT_GE((*slow[0])->elapsed, 100ms);
}

TEST_F(Transport, EachMisbehaviourIsANamedErrorAndTheGoodUnitIsStillAnswered) {
  Sim sim(kMisbehaving);
  expect_named_errors_and_good_answers(*this, transport.gateway("127.0.0.1", sim.port, 1), true);
  EXPECT_GE(transport.stats().disconnects.load(), 4u);  // reset, garbage, short, oversized
  // Each death of the shared connection was followed by one new connection for
  // all units, not one per unit.
  EXPECT_EQ(transport.stats().connects.load(), transport.stats().disconnects.load() + 1);
}

// With several requests in flight a good answer may follow a bad one on the
// same connection. (Not the truncated frame: a frame cut short and followed by
// another answer cannot be told from one frame, which is why the default is 1.)
TEST_F(Transport, WithSeveralOutstandingABadUnitStillFailsAlone) {
  Sim sim(kMisbehaving);
  expect_named_errors_and_good_answers(*this, transport.gateway("127.0.0.1", sim.port, 4), false);
}

TEST_F(Transport, ARefusedGatewayFailsFastAndIsReconnectedWhenItIsBack) {
  std::uint16_t port = 0;
  {
    Sim first({"--units", "3"});
    port = first.port;
  }  // stopped: the port refuses now
  const GatewayId g = transport.gateway("127.0.0.1", port, 1);
  const auto refused = run(g, {holding(1)});
  ASSERT_TRUE(refused[0] && !refused[0]->ok());
  EXPECT_EQ(refused[0]->error().code, "pollers.modbus.connect_failed");
  EXPECT_TRUE(refused[0]->error().retryable);

  Sim again({"--listen", "127.0.0.1:" + std::to_string(port), "--units", "3"});
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  bool answered = false;
  while (!answered && std::chrono::steady_clock::now() < deadline) {
    auto r = run(g, {holding(1)});
    answered = r[0] && r[0]->ok();
  }
  EXPECT_TRUE(answered);
}

}  // namespace
}  // namespace edgepoll::pollers
