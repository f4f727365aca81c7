#include "behaviour.hpp"

#include <charconv>

#include <boost/beast/core/detail/base64.hpp>

#include "edgepoll/pollers/duration.hpp"

namespace edgepoll::devicesim {
namespace {

Error bad(std::string_view spec, std::string_view why) {
  return make_error("device_sim.bad_behaviour",
                    "behaviour \"" + std::string(spec) + "\": " + std::string(why), false,
                    "see device-sim --help");
}

Result<std::size_t> parse_size(std::string_view text) {
  std::size_t n = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc()) return make_error("device_sim.bad_size", "not a size");
  const std::string_view unit(ptr, text.data() + text.size() - ptr);
  if (unit.empty() || unit == "B") return n;
  if (unit == "k" || unit == "K") return n << 10;
  if (unit == "M") return n << 20;
  return make_error("device_sim.bad_size", "unit must be k or M");
}

std::string base64(std::string_view in) {
  std::string out(boost::beast::detail::base64::encoded_size(in.size()), '\0');
  out.resize(boost::beast::detail::base64::encode(out.data(), in.data(), in.size()));
  return out;
}

}  // namespace

Result<Behaviour> Behaviour::parse(std::string_view spec) {
  Behaviour b;
  b.spec = std::string(spec);
  const auto colon = spec.find(':');
  const std::string_view name = spec.substr(0, colon);
  const std::string_view arg = colon == std::string_view::npos ? "" : spec.substr(colon + 1);
  auto need_arg = [&]() -> Status {
    if (arg.empty()) return bad(spec, "needs an argument after ':'");
    return ok_status();
  };
  auto duration = [&](Duration& out) -> Status {
    if (auto st = need_arg(); !st) return st;
    auto d = pollers::parse_duration(arg, "behaviour \"" + std::string(spec) + "\"");
    if (!d) return d.take_error();
    out = *d;
    return ok_status();
  };
  Status st = ok_status();
  if (name == "normal") b.kind = Kind::normal;
  else if (name == "garbage") b.kind = Kind::garbage;
  else if (name == "truncated") b.kind = Kind::truncated;
  else if (name == "nonutf8") b.kind = Kind::nonutf8;
  else if (name == "wrongtype") b.kind = Kind::wrongtype;
  else if (name == "reset") b.kind = Kind::reset;
  else if (name == "hang") b.kind = Kind::hang;
  else if (name == "slow") { b.kind = Kind::slow; st = duration(b.latency); }
  else if (name == "flap") {
    b.kind = Kind::flap;
    st = duration(b.period);
    if (st && b.period <= Duration::zero()) st = bad(spec, "period must be > 0");
  } else if (name == "huge") {
    b.kind = Kind::huge;
    auto n = parse_size(arg.empty() ? "16M" : arg);
    if (!n) return bad(spec, "size must be like 4096, 64k or 16M");
    b.size = *n;
  } else if (name == "status") {
    b.kind = Kind::status;
    auto [p, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), b.status);
    if (ec != std::errc() || p != arg.data() + arg.size() || b.status < 100 || b.status > 599)
      return bad(spec, "status must be an HTTP code 100-599");
  } else if (name == "bearer") {
    b.kind = Kind::bearer;
    st = need_arg();
    b.credential = std::string(arg);
  } else if (name == "basic") {
    b.kind = Kind::basic;
    if (arg.find(':') == std::string_view::npos) return bad(spec, "expected basic:<user>:<password>");
    b.credential = base64(arg);
  } else if (name == "schedule") {
    b.kind = Kind::schedule;
    if (auto s = need_arg(); !s) return s.take_error();
    std::string_view rest = arg;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      const std::string_view item = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? "" : rest.substr(comma + 1);
      const auto at = item.rfind('@');
      if (at == std::string_view::npos) return bad(spec, "each step is <behaviour>@<duration>");
      auto inner = Behaviour::parse(item.substr(0, at));
      if (!inner) return inner.take_error();
      if (inner->kind == Kind::schedule) return bad(spec, "schedules do not nest");
      auto len = pollers::parse_duration(item.substr(at + 1), "schedule step");
      if (!len || *len <= Duration::zero()) return bad(spec, "step duration must be > 0");
      b.steps.push_back(Step{std::move(inner).value(), *len});
    }
    if (b.steps.empty()) return bad(spec, "schedule has no steps");
  } else {
    return bad(spec, "unknown behaviour");
  }
  if (!st) return st.take_error();
  return b;
}

const Behaviour& Behaviour::at(Duration elapsed) const {
  if (kind == Kind::flap) {
    static const Behaviour up{};
    static const Behaviour down = [] {
      Behaviour b;
      b.kind = Kind::reset;
      return b;
    }();
    return (elapsed / period) % 2 == 0 ? up : down;
  }
  if (kind == Kind::schedule) {
    Duration cycle{};
    for (const auto& s : steps) cycle += s.length;
    Duration t = elapsed % cycle;
    for (const auto& s : steps) {
      if (t < s.length) return s.behaviour.at(t);
      t -= s.length;
    }
  }
  return *this;
}

std::string behaviour_help() {
  return R"(Behaviours (--default SPEC, --device ID=SPEC, ID may end in '*' for a prefix):
  normal              200, JSON body whose numbers change over time:
                      {"id":"d1","seq":7,"uptime_s":12.5,"temperature":21.4,
                       "humidity":48.1,"pressure":1012.9,"status":"ok","online":true}
  slow:<dur>          normal body after a delay           e.g. slow:1500ms
  garbage             200 with bytes that are not JSON (binary junk)
  truncated           200 with JSON cut off in the middle
  nonutf8             200 with JSON holding invalid UTF-8 bytes
  wrongtype           200 with JSON whose fields have the wrong types
  huge:<size>         200 with a body of <size> bytes    e.g. huge:16M, huge:64k
  status:<code>       that HTTP status with a short body  e.g. status:500
  reset               connection reset (TCP RST) instead of a response
  hang                reads the request and never answers
  flap:<period>       normal for <period>, then reset for <period>, ...  e.g. flap:5s
  bearer:<token>      401 unless "Authorization: Bearer <token>", else normal
  basic:<user>:<pw>   401 unless basic auth matches, else normal
  schedule:<spec>@<dur>,...   cycles through steps     e.g. schedule:normal@10s,status:500@5s,hang@5s
Durations: 250ms, 5s, 2m, 1h. Time for flap/schedule counts from the device's
first request (or its last POST /control/<id>).
Endpoints:
  GET  /devices/<id>     the device
  GET  /stats            {"total":N,"devices":{"<id>":N,...}} requests served per device
  GET  /stats/total      {"total":N}
  POST /control/<id>     body = a behaviour spec; replaces the device's behaviour now
)";
}

}  // namespace edgepoll::devicesim
