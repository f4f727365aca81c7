// SnmpAgent and SnmpPoll against real agents: snmpd for v2c, every v3
// protocol and wrong credentials, the ifTable walk; fake_agent.py for merged
// and split GETs and for agents that are late, silent, answer garbage or
// answer from the wrong port.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "edgepoll/pollers/snmp/snmp_agent.hpp"
#include "edgepoll/pollers/snmp/snmp_decoder.hpp"
#include "edgepoll/pollers/snmp/snmp_poll.hpp"
#include "edgepoll/supervision/clock.hpp"
#include "snmp_support.hpp"

namespace edgepoll::pollers {
namespace {

using namespace std::chrono_literals;
using testing::kAuthPass;
using testing::kCommunity;
using testing::kPrivPass;
using testing::run_until;

const Oid kSysUpTime{1, 3, 6, 1, 2, 1, 1, 3, 0};
const Oid kSysName{1, 3, 6, 1, 2, 1, 1, 5, 0};
const Oid kSysObjectId{1, 3, 6, 1, 2, 1, 1, 2, 0};

SnmpDeviceConfig v2c(std::uint16_t port, unsigned retries = 0) {
  SnmpDeviceConfig c;
  c.host = "127.0.0.1";
  c.port = port;
  c.version = SnmpVersion::v2c;
  c.retries = retries;
  return c;
}

SnmpDeviceConfig v3(std::uint16_t port, const testing::SnmpdUser& u) {
  SnmpDeviceConfig c = v2c(port, 1);
  c.version = SnmpVersion::v3;
  c.user = u.name;
  const std::string auth = u.auth, priv = u.priv;
  c.security_level = priv.empty() ? SnmpSecurityLevel::auth_no_priv : SnmpSecurityLevel::auth_priv;
  const std::pair<const char*, SnmpAuthProtocol> auths[] = {
      {"MD5", SnmpAuthProtocol::md5},         {"SHA", SnmpAuthProtocol::sha},
      {"SHA-224", SnmpAuthProtocol::sha224}, {"SHA-256", SnmpAuthProtocol::sha256},
      {"SHA-384", SnmpAuthProtocol::sha384}, {"SHA-512", SnmpAuthProtocol::sha512}};
  for (const auto& [n, p] : auths)
    if (auth == n) c.auth_protocol = p;
  const std::pair<const char*, SnmpPrivProtocol> privs[] = {{"AES", SnmpPrivProtocol::aes128},
                                                            {"AES-192", SnmpPrivProtocol::aes192},
                                                            {"AES-256", SnmpPrivProtocol::aes256},
                                                            {"DES", SnmpPrivProtocol::des}};
  for (const auto& [n, p] : privs)
    if (priv == n) c.priv_protocol = p;
  return c;
}

struct SnmpFake : ::testing::Test {
  boost::asio::io_context io;
  SnmpTransport transport{io};

  std::unique_ptr<SnmpAgent> open(const SnmpDeviceConfig& c, SnmpSecrets s, Duration timeout = 1s) {
    auto a = transport.open("dev", c, s, timeout);
    EXPECT_TRUE(a.ok()) << a.error().describe();
    return a.ok() ? std::move(a.value()) : nullptr;
  }
  // One GET of `oids`, run to its callback.
  Result<SnmpReply> get(SnmpAgent& agent, std::vector<Oid> oids, std::chrono::milliseconds limit = 10s) {
    std::optional<Result<SnmpReply>> out;
    agent.send(SnmpRequest{SnmpRequest::Kind::get, std::move(oids), 0},
               [&](Result<SnmpReply> r) { out = std::move(r); });
    EXPECT_TRUE(run_until(io, [&] { return out.has_value(); }, limit));
    return out ? std::move(*out) : Result<SnmpReply>(make_error("test.no_answer", "no callback"));
  }
};

struct SnmpWithSnmpd : SnmpFake {
  testing::Snmpd snmpd;
};

TEST_F(SnmpWithSnmpd, V2cGetsScalarsOfEveryTypeInOnePdu) {
  auto agent = open(v2c(snmpd.port()), {kCommunity, "", ""});
  auto r = get(*agent, {kSysUpTime, kSysName, kSysObjectId});
  ASSERT_TRUE(r.ok()) << r.error().describe();
  ASSERT_EQ(r->varbinds.size(), 3u);
  EXPECT_EQ(r->varbinds[0].oid, kSysUpTime);
  EXPECT_EQ(r->varbinds[0].value.type, SnmpType::timeticks);
  EXPECT_EQ(r->varbinds[1].value.type, SnmpType::octet_string);
  EXPECT_EQ(r->varbinds[2].value.type, SnmpType::object_id);
  EXPECT_EQ(transport.stats().requests, 1u);
  EXPECT_EQ(transport.stats().answers, 1u);
}

TEST_F(SnmpWithSnmpd, V3EveryAuthAndPrivProtocol) {
  for (const auto& u : testing::kSnmpdUsers) {
    auto agent = open(v3(snmpd.port(), u), {"", kAuthPass, kPrivPass});
    auto r = get(*agent, {kSysUpTime, kSysName});
    ASSERT_TRUE(r.ok()) << u.name << ": " << r.error().describe();
    EXPECT_EQ(r->error_status, 0) << u.name;
    EXPECT_EQ(r->varbinds.at(0).value.type, SnmpType::timeticks) << u.name;
  }
}

TEST_F(SnmpWithSnmpd, WrongCredentialsAreNamedErrors) {
  const auto& sha_aes = testing::kSnmpdUsers[0];
  auto wrong_auth = open(v3(snmpd.port(), sha_aes), {"", "not-the-auth-pass", kPrivPass});
  auto r = get(*wrong_auth, {kSysUpTime});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "pollers.snmp.wrong_digest");
  EXPECT_EQ(r.error().describe().find("not-the-auth-pass"), std::string::npos);

  auto unknown_config = v3(snmpd.port(), sha_aes);
  unknown_config.user = "nobody-here";
  auto unknown = open(unknown_config, {"", kAuthPass, kPrivPass});
  r = get(*unknown, {kSysUpTime});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "pollers.snmp.unknown_user");

  // snmpd cannot decrypt a PDU under a wrong priv key, so it cannot tell whether to report: silence.
  auto wrong_priv = open(v3(snmpd.port(), sha_aes), {"", kAuthPass, "not-the-priv-pass"}, 300ms);
  r = get(*wrong_priv, {kSysUpTime});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "pollers.snmp.timeout") << r.error().describe();
  EXPECT_NE(r.error().message.find("wrong priv passphrase"), std::string::npos);
  EXPECT_EQ(r.error().describe().find("not-the-priv-pass"), std::string::npos);

  // The right keys after wrong ones for the same user of the same engine (a
  // passphrase fixed and the device restarted) are the ones used.
  auto fixed = open(v3(snmpd.port(), sha_aes), {"", kAuthPass, kPrivPass});
  r = get(*fixed, {kSysUpTime});
  ASSERT_TRUE(r.ok()) << r.error().describe();

  // A wrong community is not answered at all: a timeout that says so.
  auto wrong_community = open(v2c(snmpd.port()), {"not-the-community", "", ""}, 300ms);
  r = get(*wrong_community, {kSysUpTime});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "pollers.snmp.timeout");
  EXPECT_NE(r.error().message.find("wrong community"), std::string::npos);
}

SnmpTable if_table(unsigned repetitions, unsigned max_rows = 1000) {
  SnmpTable t;
  t.name = "if";
  t.index_tag = "ifIndex";
  t.max_repetitions = repetitions;
  t.max_rows = max_rows;
  t.columns = {SnmpField{"type", *parse_oid("1.3.6.1.2.1.2.2.1.3"), OctetFormat::automatic, false, ""},
               SnmpField{"in_octets", *parse_oid("1.3.6.1.2.1.2.2.1.10"), OctetFormat::automatic, true, "B/s"}};
  t.tags = {SnmpField{"ifDescr", *parse_oid("1.3.6.1.2.1.2.2.1.2"), OctetFormat::text, false, ""}};
  return t;
}

// Runs one SnmpPoll of `config` on `agent`.
Result<SnmpResponse> poll(boost::asio::io_context& io, const SnmpDeviceConfig& config, SnmpAgent& agent,
                          const supervision::Clock& clock) {
  std::optional<Result<SnmpResponse>> out;
  auto p = std::make_shared<SnmpPoll>(config, agent, clock, [&](Result<SnmpResponse> r) { out = std::move(r); });
  p->start();
  EXPECT_TRUE(run_until(io, [&] { return out.has_value(); }, 20s));
  return out ? std::move(*out) : Result<SnmpResponse>(make_error("test.no_answer", "no poll result"));
}

TEST_F(SnmpWithSnmpd, IfTableWalkJoinedIntoOneRowPerInterface) {
  supervision::SteadyClock clock(io);
  auto config = v2c(snmpd.port());
  config.tables = {if_table(2)};  // 2 repetitions: the walk takes several GETBULKs
  auto agent = open(config, {kCommunity, "", ""});
  auto r = poll(io, config, *agent, clock);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  const auto& rows = r->tables.at(0).rows;
  ASSERT_GE(rows.size(), 1u);
  EXPECT_FALSE(r->tables[0].error);
  EXPECT_GT(r->requests, 1u);
  ASSERT_TRUE(rows.count(Oid{1}));  // ifIndex 1 is the loopback on Linux
  SnmpDecoder decoder("sw", config);
  auto first = decoder.decode(*r);
  ASSERT_TRUE(first.ok()) << first.error().describe();
  // Rates need two samples: the first poll has the types only, one per row.
  ASSERT_EQ(first->readings.size(), rows.size());
  const auto& lo = first->readings.front();
  EXPECT_EQ(lo.metric, "if.type");
  EXPECT_EQ(std::get<std::int64_t>(lo.value), 24);  // softwareLoopback
  ASSERT_EQ(lo.tags.size(), 2u);
  EXPECT_EQ(lo.tags[0], (std::pair<std::string, std::string>{"ifIndex", "1"}));
  EXPECT_EQ(lo.tags[1], (std::pair<std::string, std::string>{"ifDescr", "lo"}));

  auto again = poll(io, config, *agent, clock);
  ASSERT_TRUE(again.ok()) << again.error().describe();
  auto second = decoder.decode(*again);
  ASSERT_TRUE(second.ok());
  std::size_t rates = 0;
  for (const auto& reading : second->readings)
    if (reading.metric == "if.in_octets") {
      ++rates;
      EXPECT_GE(std::get<double>(reading.value), 0.0);
      EXPECT_EQ(reading.unit, "B/s");
    }
  EXPECT_EQ(rates, rows.size());
}

TEST_F(SnmpWithSnmpd, TableWalkStopsAtMaxRows) {
  supervision::SteadyClock clock(io);
  auto config = v2c(snmpd.port());
  config.tables = {if_table(10, 1)};
  auto agent = open(config, {kCommunity, "", ""});
  auto r = poll(io, config, *agent, clock);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->tables[0].rows.size(), 1u);
  // Linux has more than the loopback (ifb*, eth*), so the walk was cut short.
  ASSERT_TRUE(r->tables[0].error);
  EXPECT_EQ(r->tables[0].error->code, "pollers.snmp.walk_truncated");
}

std::vector<SnmpField> scalars(unsigned n) {
  std::vector<SnmpField> out;
  for (unsigned i = 1; i <= n; ++i)
    out.push_back(SnmpField{"m" + std::to_string(i), Oid{1, 3, 6, 1, 4, 1, 99, i, 0}, OctetFormat::automatic, false, ""});
  return out;
}

TEST_F(SnmpFake, TenScalarsGoInOneGet) {
  supervision::SteadyClock clock(io);
  testing::FakeAgent fake("good");
  auto config = v2c(fake.port());
  config.metrics = scalars(10);
  auto agent = open(config, {"public", "", ""});
  auto r = poll(io, config, *agent, clock);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(fake.gets(1), std::vector<int>{10});
  for (unsigned i = 0; i < 10; ++i) EXPECT_EQ(r->scalars[i]->integer, i + 1);
}

TEST_F(SnmpFake, GetsSplitWhenTheAgentSaysTooBig) {
  supervision::SteadyClock clock(io);
  testing::FakeAgent fake("toobig", "3");  // refuses GETs of more than 3 OIDs
  auto config = v2c(fake.port());
  config.metrics = scalars(10);
  config.max_oids_per_pdu = 8;
  auto agent = open(config, {"public", "", ""});
  auto r = poll(io, config, *agent, clock);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  // 8 -> 4 + 4 -> 2 + 2 + 2 + 2, then the last 2 of the 10 as they were.
  EXPECT_EQ(fake.gets(8), (std::vector<int>{8, 4, 2, 2, 4, 2, 2, 2}));
  EXPECT_EQ(r->splits, 3u);
  for (unsigned i = 0; i < 10; ++i) {
    ASSERT_TRUE(r->scalars[i]) << i;
    EXPECT_EQ(r->scalars[i]->integer, i + 1);
  }
}

TEST_F(SnmpFake, OneOidTooBigAloneIsAFieldError) {
  supervision::SteadyClock clock(io);
  testing::FakeAgent fake("toobig", "0");  // refuses everything
  auto config = v2c(fake.port());
  config.metrics = scalars(2);
  auto agent = open(config, {"public", "", ""});
  auto r = poll(io, config, *agent, clock);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  ASSERT_TRUE(r->failed[0]);
  EXPECT_EQ(r->failed[0]->code, "pollers.snmp.too_big");
  SnmpDecoder decoder("d", config);
  auto d = decoder.decode(*r);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, "pollers.decode.no_readings");
}

TEST_F(SnmpFake, ALateAnswerWithinTheRetriesCountsALateOneAfterThemDoesNot) {
  testing::FakeAgent fake("late", "450");
  auto patient = open(v2c(fake.port(), 2), {"public", "", ""}, 300ms);
  auto r = get(*patient, {kSysUpTime});
  ASSERT_TRUE(r.ok()) << r.error().describe();  // the first attempt's answer, during the second
  EXPECT_GE(r->elapsed, 450ms);

  auto hasty = open(v2c(fake.port(), 0), {"public", "", ""}, 150ms);
  r = get(*hasty, {kSysUpTime});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "pollers.snmp.timeout");
  EXPECT_TRUE(r.error().retryable);
  // Its late answer arrives while the next request waits: it is not taken for that one's.
  auto next = get(*hasty, {kSysName});
  EXPECT_FALSE(next.ok());
}

TEST_F(SnmpFake, GarbageIsNoAnswer) {
  testing::FakeAgent fake("garbage");
  auto agent = open(v2c(fake.port(), 1), {"public", "", ""}, 200ms);
  auto r = get(*agent, {kSysUpTime});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "pollers.snmp.timeout");
  EXPECT_EQ(fake.gets(2).size(), 2u);  // sent, and sent again once
}

TEST_F(SnmpFake, AnAnswerFromTheWrongPortIsDropped) {
  testing::FakeAgent fake("wrongport");
  auto agent = open(v2c(fake.port()), {"public", "", ""});
  auto r = get(*agent, {kSysUpTime});
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->varbinds.at(0).value.integer, 3);  // the agent's own answer, not the 666 from elsewhere
  EXPECT_EQ(transport.stats().stray, 1u);
}

TEST_F(SnmpFake, ASilentAgentDoesNotDelayAnother) {
  testing::FakeAgent silent("silent"), good("good");
  auto dead = open(v2c(silent.port(), 1), {"public", "", ""}, 2s);
  auto alive = open(v2c(good.port()), {"public", "", ""});
  std::optional<Result<SnmpReply>> from_dead, from_alive;
  std::chrono::steady_clock::time_point alive_at{};
  const auto start = std::chrono::steady_clock::now();
  dead->send(SnmpRequest{SnmpRequest::Kind::get, {kSysUpTime}, 0}, [&](Result<SnmpReply> r) { from_dead = std::move(r); });
  alive->send(SnmpRequest{SnmpRequest::Kind::get, {kSysUpTime}, 0}, [&](Result<SnmpReply> r) {
    from_alive = std::move(r);
    alive_at = std::chrono::steady_clock::now();
  });
  ASSERT_TRUE(run_until(io, [&] { return from_dead && from_alive; }, 10s));
  ASSERT_TRUE(from_alive->ok());
  EXPECT_LT(alive_at - start, 1s);  // while the dead one waited its 2 s, twice
  ASSERT_FALSE(from_dead->ok());
  EXPECT_EQ(from_dead->error().code, "pollers.snmp.timeout");
  EXPECT_GE(std::chrono::steady_clock::now() - start, 4s);
}

}  // namespace
}  // namespace edgepoll::pollers
