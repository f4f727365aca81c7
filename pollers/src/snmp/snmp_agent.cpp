#include "edgepoll/pollers/snmp/snmp_agent.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <stdexcept>

#include "netsnmp.hpp"

namespace edgepoll::pollers {

namespace asio = boost::asio;

namespace {

// The empty USM user that engine-discovery probes are sent as (RFC 3414 4):
// what net-snmp's own synchronous probe registers, once per process.
void add_probe_user() {
  char empty[] = "";
  if (usm_get_user(nullptr, 0, empty) != nullptr) return;
  auto* user = static_cast<struct usmUser*>(calloc(1, sizeof(struct usmUser)));
  if (user == nullptr) throw std::bad_alloc();
  user->name = strdup("");
  user->secName = strdup("");
  user->authProtocolLen = OID_LENGTH(usmNoAuthProtocol);
  user->authProtocol = snmp_duplicate_objid(usmNoAuthProtocol, user->authProtocolLen);
  user->privProtocolLen = OID_LENGTH(usmNoPrivProtocol);
  user->privProtocol = snmp_duplicate_objid(usmNoPrivProtocol, user->privProtocolLen);
  usm_add_user(user);
}

int on_netsnmp_log(int, int, void*, void* message) {
  const auto* m = static_cast<const snmp_log_message*>(message);
  std::string_view text = m && m->msg ? m->msg : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  if (!text.empty()) spdlog::debug("net-snmp: {}", text);
  return SNMPERR_SUCCESS;
}

void init_netsnmp_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_LOAD_HOST_FILES, 1);
    netsnmp_ds_set_int(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_MIB_WARNINGS, 0);
    // OIDs are numeric in the config: no MIB directory is searched.
    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_MIBDIRS, "");
    snmp_disable_log();
    // EDGEPOLL_NETSNMP_DEBUG=usm,snmp_api turns net-snmp's own debug output (to
    // stderr) on for those tokens, for diagnosing an agent by hand.
    // NOLINTNEXTLINE(concurrency-mt-unsafe): the process never calls setenv.
    if (const char* tokens = std::getenv("EDGEPOLL_NETSNMP_DEBUG"); tokens && *tokens) {
      snmp_enable_stderrlog();
      debug_register_tokens(tokens);
      snmp_set_do_debugging(1);
    } else {
      // With no log handler at all net-snmp writes to stderr anyway, e.g. a
      // "Cannot find module" line for each of its default MIBs (no MIB is
      // read here): its messages go to our log at debug level instead.
      snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING, &on_netsnmp_log, nullptr);
      netsnmp_register_loghandler(NETSNMP_LOGHANDLER_CALLBACK, LOG_DEBUG);
    }
    init_snmp("edgepoll");
    add_probe_user();
  });
}

struct AuthProto {
  const oid* id;
  std::size_t length;
};
AuthProto auth_proto(SnmpAuthProtocol p) {
  switch (p) {
    case SnmpAuthProtocol::md5: return {usmHMACMD5AuthProtocol, OID_LENGTH(usmHMACMD5AuthProtocol)};
    case SnmpAuthProtocol::sha: return {usmHMACSHA1AuthProtocol, OID_LENGTH(usmHMACSHA1AuthProtocol)};
    case SnmpAuthProtocol::sha224:
      return {usmHMAC128SHA224AuthProtocol, OID_LENGTH(usmHMAC128SHA224AuthProtocol)};
    case SnmpAuthProtocol::sha256:
      return {usmHMAC192SHA256AuthProtocol, OID_LENGTH(usmHMAC192SHA256AuthProtocol)};
    case SnmpAuthProtocol::sha384:
      return {usmHMAC256SHA384AuthProtocol, OID_LENGTH(usmHMAC256SHA384AuthProtocol)};
    case SnmpAuthProtocol::sha512:
      return {usmHMAC384SHA512AuthProtocol, OID_LENGTH(usmHMAC384SHA512AuthProtocol)};
  }
  throw std::logic_error("unknown SNMP auth protocol");
}
AuthProto priv_proto(SnmpPrivProtocol p) {
  switch (p) {
    case SnmpPrivProtocol::aes128: return {usmAESPrivProtocol, OID_LENGTH(usmAESPrivProtocol)};
    case SnmpPrivProtocol::aes192: return {usmAES192PrivProtocol, OID_LENGTH(usmAES192PrivProtocol)};
    case SnmpPrivProtocol::aes256: return {usmAES256PrivProtocol, OID_LENGTH(usmAES256PrivProtocol)};
    case SnmpPrivProtocol::des: return {usmDESPrivProtocol, OID_LENGTH(usmDESPrivProtocol)};
  }
  throw std::logic_error("unknown SNMP privacy protocol");
}

// A USM report that ended a request: what it says about the credentials.
Error report_error(const std::string& agent, int type) {
  const char* code = "pollers.snmp.report";
  const char* hint = "check the v3 user, security level and protocols against the agent's";
  switch (type) {
    case SNMPERR_UNKNOWN_USER_NAME:
      code = "pollers.snmp.unknown_user";
      hint = "the agent has no such USM user";
      break;
    case SNMPERR_AUTHENTICATION_FAILURE:
      code = "pollers.snmp.wrong_digest";
      hint = "check auth_protocol and the auth passphrase file";
      break;
    case SNMPERR_DECRYPTION_ERR:
      code = "pollers.snmp.decryption_failed";
      hint = "check priv_protocol and the priv passphrase file";
      break;
    case SNMPERR_UNSUPPORTED_SEC_LEVEL:
      code = "pollers.snmp.unsupported_security_level";
      hint = "the agent's user is configured for another security_level";
      break;
    default: break;
  }
  return make_error(code, fmt::format("agent {}: {}", agent, snmp_api_errstring(type)), false, hint);
}

}  // namespace

struct SnmpAgent::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, std::shared_ptr<SnmpTransportStats> stats)
      : io(io), socket(io), timer(io), stats(std::move(stats)) {}

  asio::io_context& io;
  asio::posix::stream_descriptor socket;
  asio::steady_timer timer;
  std::shared_ptr<SnmpTransportStats> stats;
  void* session = nullptr;
  std::string agent;  // host:port, for messages
  std::string device_id;
  bool v3 = false;
  bool engine_known = false;
  std::string unanswered_hint;  // why an agent may stay silent, for timeout messages
  long timeout_us = 0;
  int retries = 0;
  sockaddr_storage peer{};
  bool closed = false;

  SnmpCallback done;            // the caller's request
  std::optional<SnmpRequest> after_probe;  // sent once the engine id is known
  int reqid = 0;                // net-snmp's id of the PDU in flight (probe or request)
  bool probing = false;
  bool waiting_read = false;
  std::chrono::steady_clock::time_point sent_at{};
  std::optional<Result<SnmpReply>> outcome;  // set inside net-snmp's callback, acted on after

  static int on_pdu(int op, netsnmp_session*, int id, netsnmp_pdu* pdu, void* magic) {
    return static_cast<Impl*>(magic)->received(op, id, pdu);
  }

  bool from_agent(const netsnmp_pdu* pdu) const {
    if (peer.ss_family != AF_INET || pdu->transport_data == nullptr ||
        pdu->transport_data_length < static_cast<int>(sizeof(netsnmp_indexed_addr_pair)))
      return true;
    const auto* from = static_cast<const netsnmp_indexed_addr_pair*>(pdu->transport_data);
    const auto& want = reinterpret_cast<const sockaddr_in&>(peer);
    const auto& got = from->remote_addr.sin;
    return got.sin_family == AF_INET && got.sin_port == want.sin_port &&
           got.sin_addr.s_addr == want.sin_addr.s_addr;
  }

  // net-snmp's callback: runs inside snmp_sess_read2 / snmp_sess_timeout.
  // Returns 1 when the PDU is taken (net-snmp forgets the request), 0 to keep waiting.
  int received(int op, int id, netsnmp_pdu* pdu) {
    // A report about a PDU the agent could not decrypt or authenticate has
    // request id 0 (net-snmp matched it by message id): it is about ours.
    const bool ours = id == reqid || (id == 0 && pdu != nullptr && pdu->command == SNMP_MSG_REPORT);
    if (!ours || reqid == 0 || outcome) return 1;  // a cancelled request, or a report told twice
    switch (op) {
      case NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE:
        if (!from_agent(pdu)) {
          stats->stray++;
          return 0;
        }
        if (pdu->command == SNMP_MSG_REPORT) {
          const int type = snmpv3_get_report_type(pdu);
          if (probing) {  // the expected answer: unknownEngineID, with the engine id
            outcome = SnmpReply{};
            return 1;
          }
          if (type == SNMPERR_NOT_IN_TIME_WINDOW) return 1;  // net-snmp resends with the agent's time
          stats->reports++;
          outcome = report_error(agent, type);
          return 1;
        }
        {
          stats->answers++;
          SnmpReply reply;
          reply.error_status = pdu->errstat;
          reply.error_index = pdu->errindex;
          for (auto* v = pdu->variables; v != nullptr; v = v->next_variable)
            reply.varbinds.push_back(varbind_from_netsnmp(*v));
          reply.elapsed = std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - sent_at);
          outcome = std::move(reply);
        }
        return 1;
      case NETSNMP_CALLBACK_OP_TIMED_OUT:
        stats->timeouts++;
        outcome = make_error(
            "pollers.snmp.timeout",
            fmt::format("agent {}: no answer in {} ms ({} retries){}", agent, timeout_us / 1000, retries,
                        unanswered_hint),
            true);
        return 1;
      case NETSNMP_CALLBACK_OP_RESEND:  // net-snmp telling of a retransmission
        return 1;
      case NETSNMP_CALLBACK_OP_SEC_ERROR: {
        // net-snmp tells of a report this way first (and again as a received message).
        const int type = pdu ? snmpv3_get_report_type(pdu) : SNMPERR_UNKNOWN_REPORT;
        if (probing) {
          outcome = SnmpReply{};  // unknownEngineID, as asked; net-snmp keeps the engine id next
          return 1;
        }
        if (type == SNMPERR_NOT_IN_TIME_WINDOW) return 1;  // net-snmp resends with the agent's time
        stats->reports++;
        outcome = report_error(agent, type);
        return 1;
      }
      default:
        outcome = make_error("pollers.snmp.send_failed",
                             fmt::format("agent {}: net-snmp reported operation {}", agent, op), true);
        return 1;
    }
  }

  // Sends `pdu` (taking it); false and `outcome` set when net-snmp refuses.
  bool send_pdu(netsnmp_pdu* pdu) {
    outcome.reset();
    sent_at = std::chrono::steady_clock::now();
    reqid = snmp_sess_async_send(session, pdu, &Impl::on_pdu, this);
    if (reqid == 0) {
      int errno_ = 0, snmp_errno = 0;
      char* text = nullptr;
      snmp_sess_error(session, &errno_, &snmp_errno, &text);
      outcome = make_error("pollers.snmp.send_failed",
                           fmt::format("agent {}: {}", agent, text ? text : "send failed"), true);
      free(text);
      snmp_free_pdu(pdu);
      return false;
    }
    stats->requests++;
    watch();
    return true;
  }

  netsnmp_pdu* build(const SnmpRequest& r) const {
    const int command = static_cast<int>(r.kind == SnmpRequest::Kind::get        ? SNMP_MSG_GET
                                         : r.kind == SnmpRequest::Kind::get_next ? SNMP_MSG_GETNEXT
                                                                                 : SNMP_MSG_GETBULK);
    netsnmp_pdu* pdu = snmp_pdu_create(command);
    if (command == SNMP_MSG_GETBULK) {
      pdu->errstat = 0;  // non-repeaters
      pdu->errindex = static_cast<long>(r.max_repetitions);  // max-repetitions
    }
    oid name[MAX_OID_LEN];
    for (const auto& o : r.oids) {
      const std::size_t n = std::min<std::size_t>(o.size(), MAX_OID_LEN);
      std::copy_n(o.begin(), n, name);
      snmp_add_null_var(pdu, name, n);
    }
    return pdu;
  }

  netsnmp_pdu* probe() const {
    netsnmp_pdu* pdu = snmp_pdu_create(SNMP_MSG_GET);
    pdu->version = SNMP_VERSION_3;
    pdu->securityName = strdup("");
    pdu->securityNameLen = 0;
    pdu->securityLevel = SNMP_SEC_LEVEL_NOAUTH;
    pdu->securityModel = SNMP_SEC_MODEL_USM;
    return pdu;
  }

  void start(SnmpRequest r) {
    if (v3 && !engine_known) {
      after_probe = std::move(r);
      probing = true;
      if (!send_pdu(probe())) post_outcome();
      return;
    }
    if (!send_pdu(build(r))) post_outcome();
  }

  // A refusal inside send(): the callback must not run inside the caller's call.
  void post_outcome() {
    probing = false;
    asio::post(io, [self = shared_from_this()] { self->settle(); });
  }

  // Watches the socket for the answer and arms the timer for net-snmp's next
  // retransmission or timeout, as long as a request is in flight.
  void watch() {
    if (closed) return;
    if (!waiting_read) {
      waiting_read = true;
      socket.async_wait(asio::posix::stream_descriptor::wait_read,
                        [self = shared_from_this()](const boost::system::error_code& ec) {
                          self->waiting_read = false;
                          if (ec || self->closed) return;
                          self->readable();
                        });
    }
    int fds = 0, block = 1;
    timeval tv{};
    netsnmp_large_fd_set set;
    netsnmp_large_fd_set_init(&set, FD_SETSIZE);
    snmp_sess_select_info2_flags(session, &fds, &set, &tv, &block, NETSNMP_SELECT_NOALARMS);
    netsnmp_large_fd_set_cleanup(&set);
    if (block) {
      timer.cancel();
      return;
    }
    timer.expires_after(std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec));
    timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->closed) return;
      snmp_sess_timeout(self->session);
      self->settle();
    });
  }

  void readable() {
    const int fd = socket.native_handle();
    netsnmp_large_fd_set set;
    netsnmp_large_fd_set_init(&set, fd + 1);
    netsnmp_large_fd_setfd(fd, &set);
    snmp_sess_read2(session, &set);
    netsnmp_large_fd_set_cleanup(&set);
    settle();
  }

  // After net-snmp ran: act on an outcome, or keep waiting.
  void settle() {
    if (closed) return;
    if (!outcome) {
      if (reqid != 0) watch();
      return;
    }
    auto result = std::move(*outcome);
    outcome.reset();
    reqid = 0;
    if (probing) {
      probing = false;
      netsnmp_session* s = snmp_sess_session(session);
      if (result.ok() && s->securityEngineIDLen > 0) {
        // net-snmp keeps one USM user per (engine, name) for the whole process:
        // a user left by an earlier session (before a passphrase changed, say)
        // would otherwise keep its keys. Then, as net-snmp's synchronous probe
        // does next: localise this session's keys for the engine.
        if (auto* old = usm_get_user(s->securityEngineID, s->securityEngineIDLen, s->securityName)) {
          usm_remove_user(old);
          usm_free_user(old);
        }
        usm_create_user_from_session(s);
        engine_known = true;
        auto r = std::move(*after_probe);
        after_probe.reset();
        if (send_pdu(build(r))) return;
        result = std::move(*outcome);
        outcome.reset();
      } else if (result.ok()) {
        result = make_error("pollers.snmp.discovery_failed",
                            fmt::format("agent {}: its answer to the engine probe had no engine id", agent),
                            true);
      }
    }
    after_probe.reset();
    timer.cancel();
    if (auto callback = std::exchange(done, nullptr)) callback(std::move(result));
  }

  void close() {
    if (closed) return;
    closed = true;
    timer.cancel();
    if (socket.is_open()) (void)socket.release();  // net-snmp owns the descriptor and closes it
    if (session) snmp_sess_close(session);
    session = nullptr;
    done = nullptr;
  }
};

SnmpAgent::~SnmpAgent() { impl_->close(); }

void SnmpAgent::send(SnmpRequest request, SnmpCallback done) {
  if (impl_->done) throw std::logic_error("SnmpAgent::send while a request is in flight");
  impl_->done = std::move(done);
  impl_->start(std::move(request));
}

void SnmpAgent::cancel() {
  impl_->done = nullptr;
  impl_->after_probe.reset();
  impl_->probing = false;
  impl_->reqid = 0;  // its late callbacks from net-snmp are ignored
}

SnmpTransport::SnmpTransport(asio::io_context& io) : io_(io) { init_netsnmp_once(); }

Result<std::unique_ptr<SnmpAgent>> SnmpTransport::open(const std::string& device_id,
                                                       const SnmpDeviceConfig& c,
                                                       const SnmpSecrets& secrets, Duration timeout) {
  auto impl = std::make_shared<SnmpAgent::Impl>(io_, stats_);
  impl->agent = c.agent();
  impl->device_id = device_id;
  netsnmp_session s;
  snmp_sess_init(&s);
  const std::string peer = c.host.find(':') != std::string::npos
                               ? fmt::format("udp6:[{}]:{}", c.host, c.port)
                               : fmt::format("udp:{}:{}", c.host, c.port);
  s.peername = const_cast<char*>(peer.c_str());
  s.timeout = std::max<long>(1000, std::chrono::duration_cast<std::chrono::microseconds>(timeout).count());
  s.retries = static_cast<int>(c.retries);
  impl->timeout_us = s.timeout;
  impl->retries = s.retries;
  std::string community = secrets.community;
  std::string user = c.user, context = c.context;
  if (c.version != SnmpVersion::v3) {
    s.version = c.version == SnmpVersion::v1 ? SNMP_VERSION_1 : SNMP_VERSION_2c;
    s.community = reinterpret_cast<u_char*>(community.data());
    s.community_len = community.size();
    impl->unanswered_hint = "; agents do not answer a wrong community either";
  } else {
    impl->v3 = true;
    s.version = SNMP_VERSION_3;
    s.flags |= SNMP_FLAGS_DONT_PROBE;  // engine discovery is asynchronous, see start()
    s.securityModel = SNMP_SEC_MODEL_USM;
    s.securityName = user.data();
    s.securityNameLen = user.size();
    s.contextName = context.data();
    s.contextNameLen = context.size();
    s.securityLevel = c.security_level == SnmpSecurityLevel::no_auth_no_priv ? SNMP_SEC_LEVEL_NOAUTH
                      : c.security_level == SnmpSecurityLevel::auth_no_priv  ? SNMP_SEC_LEVEL_AUTHNOPRIV
                                                                              : SNMP_SEC_LEVEL_AUTHPRIV;
    if (c.security_level != SnmpSecurityLevel::no_auth_no_priv) {
      const auto a = auth_proto(c.auth_protocol);
      s.securityAuthProto = const_cast<oid*>(a.id);
      s.securityAuthProtoLen = a.length;
      s.securityAuthKeyLen = USM_AUTH_KU_LEN;
      std::string pass = secrets.auth_passphrase;
      if (generate_Ku(s.securityAuthProto, s.securityAuthProtoLen, reinterpret_cast<u_char*>(pass.data()),
                      pass.size(), s.securityAuthKey, &s.securityAuthKeyLen) != SNMPERR_SUCCESS)
        return make_error("pollers.snmp.bad_passphrase",
                          fmt::format("device \"{}\": no {} key derived from the auth passphrase", device_id,
                                      snmp_auth_protocol_name(c.auth_protocol)),
                          false);
    }
    if (c.security_level == SnmpSecurityLevel::auth_priv) {
      impl->unanswered_hint = "; agents do not answer a wrong priv passphrase either";
      const auto p = priv_proto(c.priv_protocol);
      s.securityPrivProto = const_cast<oid*>(p.id);
      s.securityPrivProtoLen = p.length;
      s.securityPrivKeyLen = USM_PRIV_KU_LEN;
      std::string pass = secrets.priv_passphrase;
      if (generate_Ku(s.securityAuthProto, s.securityAuthProtoLen, reinterpret_cast<u_char*>(pass.data()),
                      pass.size(), s.securityPrivKey, &s.securityPrivKeyLen) != SNMPERR_SUCCESS)
        return make_error("pollers.snmp.bad_passphrase",
                          fmt::format("device \"{}\": no {} key derived from the priv passphrase", device_id,
                                      snmp_priv_protocol_name(c.priv_protocol)),
                          false);
    }
  }
  impl->session = snmp_sess_open(&s);
  // snmp_sess_open copied what it needs; wipe our copies of the keys.
  std::memset(s.securityAuthKey, 0, sizeof s.securityAuthKey);
  std::memset(s.securityPrivKey, 0, sizeof s.securityPrivKey);
  if (impl->session == nullptr) {
    return make_error("pollers.snmp.open_failed",
                      fmt::format("device \"{}\": cannot open an SNMP session to {}: {}", device_id, c.agent(),
                                  snmp_api_errstring(s.s_snmp_errno)),
                      true, "check the agent's address");
  }
  // snmp_sess_open clears the flag once it has (not) probed; a session without
  // it would probe synchronously inside the first snmp_sess_async_send.
  if (impl->v3) snmp_sess_session(impl->session)->flags |= SNMP_FLAGS_DONT_PROBE;
  netsnmp_transport* t = snmp_sess_transport(impl->session);
  if (t->data != nullptr && t->data_length >= static_cast<int>(sizeof(netsnmp_indexed_addr_pair))) {
    const auto* pair = static_cast<const netsnmp_indexed_addr_pair*>(t->data);
    std::memcpy(&impl->peer, &pair->remote_addr, sizeof(pair->remote_addr));
  }
  ::fcntl(t->sock, F_SETFL, ::fcntl(t->sock, F_GETFL) | O_NONBLOCK);
  impl->socket.assign(t->sock);
  return std::unique_ptr<SnmpAgent>(new SnmpAgent(std::move(impl)));
}

}  // namespace edgepoll::pollers
