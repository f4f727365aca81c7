// device-sim's SNMP mode (tools/device-sim/snmp_server.cpp), which the SNMP
// benchmark polls at 1,000 agents: edgepoll's own SnmpAgent + SnmpPoll +
// SnmpDecoder read its scalars and walk its table, net-snmp's snmpget and
// snmpbulkwalk agree, a wrong community and a silent agent time out alone, and
// garbage datagrams (whole, cut short or with lying lengths) are dropped
// without a crash. Its BER decoder is also fed every truncation and random
// byte flips of a real request.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <boost/asio/io_context.hpp>
#include <random>

#include "edgepoll/pollers/snmp/snmp_agent.hpp"
#include "edgepoll/pollers/snmp/snmp_decoder.hpp"
#include "edgepoll/pollers/snmp/snmp_poll.hpp"
#include "edgepoll/supervision/clock.hpp"
#include "snmp_support.hpp"
#include "../tools/device-sim/snmp_ber.hpp"

namespace edgepoll::pollers {
namespace {

using namespace std::chrono_literals;
using edgepoll::testing::ChildProcess;
using edgepoll::testing::run_until;

// device-sim --snmp with `n` agents; their ports in listener order.
class SnmpSim {
 public:
  explicit SnmpSim(unsigned n, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"--snmp", "--listen", "127.0.0.1:0", "--listeners", std::to_string(n)};
    args.insert(args.end(), extra.begin(), extra.end());
    process_ = std::make_unique<ChildProcess>(DEVICE_SIM_PATH, args);
    // wait_for_line shows each line once, in order (and holds the child's lock meanwhile).
    process_->wait_for_line(
        [&](const std::string& l) {
          if (l.rfind("listening=", 0) == 0)
            ports_.push_back(static_cast<std::uint16_t>(std::stoi(l.substr(l.rfind(':') + 1))));
          return ports_.size() == n;
        },
        10s);
    if (ports_.size() != n) throw std::runtime_error("device-sim --snmp did not print its ports");
  }
  std::uint16_t port(std::size_t i) const { return ports_.at(i); }
  ChildProcess& process() { return *process_; }

 private:
  std::unique_ptr<ChildProcess> process_;
  std::vector<std::uint16_t> ports_;
};

// The benchmark's device: the ten scalars and the ifTable slice (two rate
// columns, ifDescr as a tag).
SnmpDeviceConfig bench_device(std::uint16_t port) {
  SnmpDeviceConfig c;
  c.host = "127.0.0.1";
  c.port = port;
  c.version = SnmpVersion::v2c;
  c.retries = 0;
  for (unsigned i = 1; i <= 10; ++i)
    c.metrics.push_back({"s" + std::to_string(i), Oid{1, 3, 6, 1, 4, 1, 99999, 1, i, 0}, OctetFormat::automatic, false, ""});
  SnmpTable t;
  t.name = "if";
  t.index_tag = "ifIndex";
  t.max_repetitions = 10;  // several GETBULKs per walk
  t.columns = {SnmpField{"in_octets", Oid{1, 3, 6, 1, 2, 1, 2, 2, 1, 10}, OctetFormat::automatic, false, ""},
               SnmpField{"out_octets", Oid{1, 3, 6, 1, 2, 1, 2, 2, 1, 16}, OctetFormat::automatic, false, ""}};
  t.tags = {SnmpField{"ifDescr", Oid{1, 3, 6, 1, 2, 1, 2, 2, 1, 2}, OctetFormat::text, false, ""}};
  c.tables.push_back(t);
  return c;
}

struct SnmpSimTest : ::testing::Test {
  boost::asio::io_context io;
  SnmpTransport transport{io};
  supervision::SteadyClock clock{io};

  std::unique_ptr<SnmpAgent> open(const SnmpDeviceConfig& c, const std::string& community, Duration timeout = 1s) {
    auto a = transport.open("sim", c, SnmpSecrets{community, "", ""}, timeout);
    EXPECT_TRUE(a.ok()) << a.error().describe();
    return a.ok() ? std::move(a.value()) : nullptr;
  }
  Result<SnmpResponse> poll(const SnmpDeviceConfig& c, SnmpAgent& agent) {
    std::optional<Result<SnmpResponse>> out;
    auto p = std::make_shared<SnmpPoll>(c, agent, clock, [&](Result<SnmpResponse> r) { out = std::move(r); });
    p->start();
    EXPECT_TRUE(run_until(io, [&] { return out.has_value(); }, 10s));
    return out ? std::move(*out) : Result<SnmpResponse>(make_error("test.no_answer", "no poll result"));
  }
};

TEST_F(SnmpSimTest, ScalarsAndTableReadByEdgepollsOwnClient) {
  SnmpSim sim(3);
  const auto config = bench_device(sim.port(2));
  auto agent = open(config, "public");
  auto r = poll(config, *agent);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  const std::pair<SnmpType, std::uint64_t> expected[] = {
      {SnmpType::integer, 1003}, {SnmpType::gauge32, 0}, {SnmpType::counter32, 0}, {SnmpType::timeticks, 0}};
  for (std::size_t i = 0; i < 10; ++i) {
    ASSERT_TRUE(r->scalars[i].has_value()) << config.metrics[i].name;
    EXPECT_EQ(r->scalars[i]->type, expected[i % 4].first) << config.metrics[i].name;
  }
  EXPECT_EQ(r->scalars[0]->integer, 1000 + 1 + 2);  // 1000 + i + the agent's listener index
  const auto& rows = r->tables.at(0).rows;
  EXPECT_FALSE(r->tables[0].error);
  ASSERT_EQ(rows.size(), 24u);
  EXPECT_GE(r->requests, 1u + 24u * 3 / 30);  // one GET and GETBULKs of 10 repetitions of 3 columns
  const auto& row3 = rows.at(Oid{3});
  ASSERT_EQ(row3.size(), 3u);
  ASSERT_TRUE(row3[2].has_value());
  EXPECT_EQ(row3[2]->bytes, "eth3");
  EXPECT_EQ(row3[0]->type, SnmpType::counter32);

  SnmpDecoder decoder("sim", config);
  auto d = decoder.decode(*r);
  ASSERT_TRUE(d.ok()) << d.error().describe();
  EXPECT_EQ(d->readings.size(), 10u + 24u * 2);
  EXPECT_TRUE(d->field_errors.empty());
}

TEST_F(SnmpSimTest, CountersAndTimeTicksAdvanceWithTime) {
  SnmpSim sim(1);
  const auto config = bench_device(sim.port(0));
  auto agent = open(config, "public");
  auto first = poll(config, *agent);
  ASSERT_TRUE(first.ok()) << first.error().describe();
  std::optional<Result<SnmpResponse>> later;
  // The simulator's clock ticks in seconds: poll until a counter moved (at most 3 s).
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  while (std::chrono::steady_clock::now() < deadline) {
    later = poll(config, *agent);
    ASSERT_TRUE(later->ok()) << later->error().describe();
    if ((**later).scalars[2]->unsigned_ != first->scalars[2]->unsigned_) break;
  }
  const auto& a = *first;
  const auto& b = **later;
  EXPECT_GT(b.scalars[2]->unsigned_, a.scalars[2]->unsigned_);  // Counter32
  EXPECT_GT(b.scalars[3]->unsigned_, a.scalars[3]->unsigned_);  // TimeTicks
  EXPECT_GT(b.tables[0].rows.at(Oid{5})[0]->unsigned_, a.tables[0].rows.at(Oid{5})[0]->unsigned_);  // ifInOctets.5
}

TEST_F(SnmpSimTest, NetSnmpToolsAgree) {
  SnmpSim sim(1);
  const std::string agent = "127.0.0.1:" + std::to_string(sim.port(0));
  {
    ChildProcess get("/usr/bin/snmpget", {"-v2c", "-c", "public", "-On", "-t", "2", agent, "1.3.6.1.4.1.99999.1.1.0",
                                          "1.3.6.1.4.1.99999.1.2.0", "1.3.6.1.4.1.99999.1.11.0"});
    EXPECT_TRUE(get.wait_for_line([](const std::string& l) { return l == ".1.3.6.1.4.1.99999.1.1.0 = INTEGER: 1001"; }, 10s));
    EXPECT_TRUE(get.wait_for_line([](const std::string& l) { return l.rfind(".1.3.6.1.4.1.99999.1.2.0 = Gauge32: ", 0) == 0; }, 10s));
    EXPECT_TRUE(get.wait_for_line([](const std::string& l) { return l.find("No Such Object") != std::string::npos; }, 10s));
  }
  ChildProcess walk("/usr/bin/snmpbulkwalk", {"-v2c", "-c", "public", "-On", "-t", "2", agent, "1.3.6.1.2.1.2.2.1"});
  EXPECT_TRUE(walk.wait_for_line(
      [](const std::string& l) { return l.rfind(".1.3.6.1.2.1.2.2.1.16.24 = Counter32: ", 0) == 0; }, 10s));
  EXPECT_EQ(walk.signal_and_wait(0, 10s), 0);
  std::size_t rows = 0;
  for (const auto& l : walk.lines())
    if (l.rfind(".1.3.6.1.2.1.2.2.1.", 0) == 0) ++rows;
  EXPECT_EQ(rows, 72u);  // 3 columns of 24 rows, and nothing past the table
}

TEST_F(SnmpSimTest, WrongCommunityAndSilentAgentTimeOutAlone) {
  SnmpSim sim(3, {"--snmp-agent", "1=hang"});
  const auto good = bench_device(sim.port(0)), silent = bench_device(sim.port(1)), other = bench_device(sim.port(2));
  auto a_good = open(good, "public", 300ms);
  auto a_silent = open(silent, "public", 300ms);
  auto a_wrong = open(other, "not-public", 300ms);
  std::optional<Result<SnmpResponse>> r_good, r_silent, r_wrong;
  auto p1 = std::make_shared<SnmpPoll>(good, *a_good, clock, [&](Result<SnmpResponse> r) { r_good = std::move(r); });
  auto p2 = std::make_shared<SnmpPoll>(silent, *a_silent, clock, [&](Result<SnmpResponse> r) { r_silent = std::move(r); });
  auto p3 = std::make_shared<SnmpPoll>(other, *a_wrong, clock, [&](Result<SnmpResponse> r) { r_wrong = std::move(r); });
  p1->start(), p2->start(), p3->start();
  ASSERT_TRUE(run_until(io, [&] { return r_good && r_silent && r_wrong; }, 10s));
  EXPECT_TRUE(r_good->ok()) << r_good->error().describe();
  ASSERT_FALSE(r_silent->ok());
  EXPECT_EQ(r_silent->error().code, "pollers.snmp.timeout");
  ASSERT_FALSE(r_wrong->ok());
  EXPECT_EQ(r_wrong->error().code, "pollers.snmp.timeout");
  sim.process().send_signal(SIGUSR1);
  EXPECT_TRUE(sim.process().wait_for_line(
      [](const std::string& l) { return l.find("snmp_wrong_community=1 ") != std::string::npos; }, 5s));
}

// A GET of sysUpTime.0, community "public", request id 0x1234 (as net-snmp sends it).
const std::vector<std::uint8_t> kGet = {0x30, 0x26, 0x02, 0x01, 0x01, 0x04, 0x06, 'p',  'u',  'b',  'l',  'i',  'c',
                                        0xa0, 0x19, 0x02, 0x02, 0x12, 0x34, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x30,
                                        0x0d, 0x30, 0x0b, 0x06, 0x07, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x03, 0x05,
                                        0x00};

TEST(SnmpSimBer, DecodesARequestAndRefusesEveryTruncation) {
  auto r = devicesim::ber::decode_request(kGet);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->version, 1);
  EXPECT_EQ(r->community, "public");
  EXPECT_EQ(r->request_id, 0x1234);
  ASSERT_EQ(r->oids.size(), 1u);
  EXPECT_EQ(r->oids[0], (devicesim::ber::Oid{1, 3, 6, 1, 2, 1, 1, 3}));
  for (std::size_t n = 0; n < kGet.size(); ++n)
    EXPECT_FALSE(devicesim::ber::decode_request(std::span(kGet.data(), n))) << "cut at " << n;
  auto longer = kGet;
  longer.push_back(0);
  EXPECT_FALSE(devicesim::ber::decode_request(longer));  // trailing bytes after the message
}

TEST(SnmpSimBer, RandomByteFlipsNeverReadOutOfBounds) {
  std::mt19937 rng(7);
  std::size_t decoded = 0;
  for (int k = 0; k < 20000; ++k) {
    auto bytes = kGet;
    for (int flips = 1 + k % 4; flips > 0; --flips) bytes[rng() % bytes.size()] = static_cast<std::uint8_t>(rng());
    if (devicesim::ber::decode_request(bytes)) ++decoded;  // ASan/UBSan builds catch a bad read here
  }
  EXPECT_LT(decoded, 20000u);  // most flips break the framing
}

TEST(SnmpSimBer, ResponseIntegersInShortestTwosComplement) {
  devicesim::ber::Request req;
  req.version = 1;
  req.community = "public";
  req.request_id = -5;  // request ids are signed 32-bit
  const std::vector<devicesim::ber::Varbind> vbs = {
      {{1, 3, 6, 1, 4, 1, 99999, 1, 3, 0}, {devicesim::ber::counter32, 0xffffffff, {}}},
      {{1, 3, 6, 1, 4, 1, 4294967295u}, {devicesim::ber::integer, -129, {}}}};
  const auto bytes = devicesim::ber::encode_response(req, 0, 0, vbs);
  // Counter32 4294967295 needs 5 content bytes (a leading zero keeps it positive).
  const std::vector<std::uint8_t> counter = {0x41, 0x05, 0x00, 0xff, 0xff, 0xff, 0xff};
  EXPECT_NE(std::search(bytes.begin(), bytes.end(), counter.begin(), counter.end()), bytes.end());
  const std::vector<std::uint8_t> minus129 = {0x02, 0x02, 0xff, 0x7f};
  EXPECT_NE(std::search(bytes.begin(), bytes.end(), minus129.begin(), minus129.end()), bytes.end());
  const std::vector<std::uint8_t> request_id = {0x02, 0x01, 0xfb};
  EXPECT_NE(std::search(bytes.begin(), bytes.end(), request_id.begin(), request_id.end()), bytes.end());
}

TEST_F(SnmpSimTest, GarbageDatagramsAreDroppedAndTheAgentAnswersOn) {
  SnmpSim sim(1);
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(sim.port(0));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::mt19937 rng(11);
  std::vector<std::vector<std::uint8_t>> junk = {{}, {0x30}, {0x30, 0x84, 0xff, 0xff, 0xff, 0xff}, {0x30, 0x80, 0x00, 0x00}};
  for (std::size_t n = 0; n < kGet.size(); ++n) junk.emplace_back(kGet.begin(), kGet.begin() + static_cast<std::ptrdiff_t>(n));
  for (int k = 0; k < 200; ++k) {
    std::vector<std::uint8_t> b(rng() % 1500);
    for (auto& x : b) x = static_cast<std::uint8_t>(rng());
    junk.push_back(std::move(b));
  }
  for (const auto& j : junk)
    ::sendto(fd, j.data(), j.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  ::close(fd);
  const auto config = bench_device(sim.port(0));
  auto agent = open(config, "public");
  auto r = poll(config, *agent);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->tables.at(0).rows.size(), 24u);
  sim.process().send_signal(SIGUSR1);
  EXPECT_TRUE(sim.process().wait_for_line([](const std::string& l) { return l.rfind("snmp_requests=", 0) == 0; }, 5s));
  // Every junk datagram counted as dropped (the kernel may drop none of 240 on loopback).
  bool all_dropped = false;
  for (const auto& l : sim.process().lines())
    if (auto at = l.find("snmp_dropped="); at != std::string::npos) all_dropped = std::stoul(l.substr(at + 13)) == junk.size();
  EXPECT_TRUE(all_dropped);
}

}  // namespace
}  // namespace edgepoll::pollers
