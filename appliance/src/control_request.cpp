#include "edgepoll/appliance/control_request.hpp"

#include <array>
#include <initializer_list>

#include <nlohmann/json.hpp>

namespace edgepoll::appliance {

namespace {

struct OpSpec {
  std::string_view name;
  ControlOp op;
  std::initializer_list<std::string_view> fields;  // besides "op"
};

const std::array<OpSpec, 10>& ops() {
  static const std::array<OpSpec, 10> all = {{
      {"device.enable", ControlOp::device_enable, {"device"}},
      {"device.disable", ControlOp::device_disable, {"device"}},
      {"device.poll_now", ControlOp::device_poll_now, {"device"}},
      {"dlq.replay", ControlOp::dlq_replay, {"key", "all"}},
      {"dlq.drop", ControlOp::dlq_drop, {"key", "all", "reason"}},
      {"config.show", ControlOp::config_show, {"device"}},
      {"config.overlay_clear", ControlOp::config_overlay_clear, {"device", "all"}},
      {"chaos.list", ControlOp::chaos_list, {}},
      {"chaos.exit", ControlOp::chaos_exit, {"path", "reason"}},
      {"chaos.fail", ControlOp::chaos_fail, {"dependency", "device", "duration"}},
  }};
  return all;
}

std::string op_names() {
  std::string s;
  for (const auto& o : ops()) s += (s.empty() ? "" : ", ") + std::string(o.name);
  return s;
}

Result<std::string> text_field(const nlohmann::json& j, std::string_view name, std::string_view op) {
  const auto it = j.find(name);
  if (it == j.end()) {
    return make_error("control.missing_field", std::string(op) + ": \"" + std::string(name) + "\" is required");
  }
  if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
    return make_error("control.type", std::string(op) + ": \"" + std::string(name) + "\" must be a non-empty string");
  }
  return it->get<std::string>();
}

constexpr std::array<std::pair<std::string_view, ChaosExit>, 3> kExits = {
    {{"crash", ChaosExit::crash}, {"kill", ChaosExit::kill}, {"shutdown", ChaosExit::shutdown}}};
constexpr std::array<std::pair<std::string_view, ChaosFault>, 4> kFaults = {
    {{"storage.busy", ChaosFault::storage_busy},
     {"storage.disk_full", ChaosFault::storage_disk_full},
     {"kafka.broker_error", ChaosFault::kafka_broker_error},
     {"device.connection", ChaosFault::device_connection}}};

// One of `names` by its text, or control.value listing them.
template <class E, std::size_t N>
Result<E> one_of(const nlohmann::json& j, std::string_view field, std::string_view op,
                 const std::array<std::pair<std::string_view, E>, N>& names) {
  auto text = text_field(j, field, op);
  if (!text) return text.take_error();
  std::string list;
  for (const auto& [name, value] : names) {
    if (name == *text) return value;
    list += (list.empty() ? "" : ", ") + std::string(name);
  }
  return make_error("control.value", std::string(op) + ": \"" + std::string(field) + "\" is \"" + *text +
                                         "\" (expected one of: " + list + ")");
}

// "250ms", "5s", "2m": whole milliseconds, 1 ms .. 1 h.
Result<std::chrono::milliseconds> duration_field(const nlohmann::json& j, std::string_view op) {
  auto text = text_field(j, "duration", op);
  if (!text) return text.take_error();
  auto bad = [&] {
    return make_error("control.value", std::string(op) + ": \"duration\" is \"" + *text +
                                           "\" (expected 1ms .. 1h, e.g. \"250ms\", \"5s\", \"2m\")");
  };
  std::size_t used = 0;
  long long n = 0;
  try {
    n = std::stoll(*text, &used);
  } catch (const std::exception&) {
    return bad();
  }
  const std::string unit = text->substr(used);
  if (n < 0 || n > 3600000) return bad();  // before multiplying: no signed overflow
  long long ms = unit == "ms" ? n : unit == "s" ? n * 1000 : unit == "m" ? n * 60000 : unit == "h" ? n * 3600000 : -1;
  if (n < 0 || ms < 1 || ms > 3600000 || text->front() == '+' || text->front() == ' ') return bad();
  return std::chrono::milliseconds(ms);
}

Result<ControlRequest> parse_chaos(const nlohmann::json& j, ControlRequest r, const std::string& op) {
  if (r.op == ControlOp::chaos_exit) {
    auto path = text_field(j, "path", op);
    if (!path) return path.take_error();
    r.path = std::move(*path);
    auto exit = one_of(j, "reason", op, kExits);
    if (!exit) return exit.take_error();
    r.exit = *exit;
  } else if (r.op == ControlOp::chaos_fail) {
    auto fault = one_of(j, "dependency", op, kFaults);
    if (!fault) return fault.take_error();
    r.fault = *fault;
    if (j.contains("device")) {
      if (r.fault != ChaosFault::device_connection) {
        return make_error("control.unknown_field", op + ": \"device\" goes with dependency device.connection only");
      }
      auto device = text_field(j, "device", op);
      if (!device) return device.take_error();
      r.device = std::move(*device);
    }
    auto duration = duration_field(j, op);
    if (!duration) return duration.take_error();
    r.duration = *duration;
  }
  return r;
}

}  // namespace

std::string_view to_string(ChaosExit e) {
  for (const auto& [name, value] : kExits)
    if (value == e) return name;
  return "?";
}

std::string_view to_string(ChaosFault f) {
  for (const auto& [name, value] : kFaults)
    if (value == f) return name;
  return "?";
}

std::string_view to_string(ControlOp op) {
  for (const auto& o : ops())
    if (o.op == op) return o.name;
  return "?";
}

Result<ControlRequest> ControlRequest::parse(std::string_view line) {
  // No exceptions: an operator's bytes must never throw through the server.
  const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return make_error("control.malformed", "a request is one JSON object on one line", false,
                      "for example {\"op\": \"device.poll_now\", \"device\": \"meter-7\"}");
  }
  const auto op_it = j.find("op");
  if (op_it == j.end() || !op_it->is_string()) {
    return make_error("control.missing_field", "\"op\" is required (one of: " + op_names() + ")");
  }
  const std::string op = op_it->get<std::string>();
  const OpSpec* spec = nullptr;
  for (const auto& o : ops())
    if (o.name == op) spec = &o;
  if (!spec) return make_error("control.unknown_op", "unknown op \"" + op + "\" (expected one of: " + op_names() + ")");
  for (const auto& [field, value] : j.items()) {
    bool known = field == "op";
    for (auto f : spec->fields) known = known || field == f;
    if (known) continue;
    std::string list = "op";
    for (auto f : spec->fields) list += ", " + std::string(f);
    return make_error("control.unknown_field", op + ": unknown field \"" + field + "\" (expected: " + list + ")");
  }
  ControlRequest r;
  r.op = spec->op;
  if (op.rfind("chaos.", 0) == 0) return parse_chaos(j, std::move(r), op);
  if (op.rfind("device.", 0) == 0) {
    auto device = text_field(j, "device", op);
    if (!device) return device.take_error();
    r.device = std::move(*device);
    return r;
  }
  if (r.op == ControlOp::config_show) {  // the whole config, or one device's
    if (j.contains("device")) {
      auto device = text_field(j, "device", op);
      if (!device) return device.take_error();
      r.device = std::move(*device);
    }
    return r;
  }
  // dlq.* name a dead letter by "key", config.overlay_clear a device by "device"; or "all".
  const char* one = r.op == ControlOp::config_overlay_clear ? "device" : "key";
  if (const auto all = j.find("all"); all != j.end()) {
    if (!all->is_boolean() || !all->get<bool>()) return make_error("control.type", op + ": \"all\" must be true");
    if (j.contains(one))
      return make_error("control.type", op + ": give \"" + one + "\" or \"all\", not both");
    r.all = true;
  } else {
    auto named = text_field(j, one, op);
    if (!named) return named.take_error();
    (r.op == ControlOp::config_overlay_clear ? r.device : r.key) = std::move(*named);
  }
  if (r.op == ControlOp::dlq_drop) {
    auto reason = text_field(j, "reason", op);
    if (!reason) return reason.take_error();
    r.reason = std::move(*reason);
  }
  return r;
}

nlohmann::json control_ok() { return {{"ok", true}}; }

nlohmann::json control_error(const Error& e) {
  nlohmann::json err = {{"code", e.code}, {"message", e.message}};
  if (!e.hint.empty()) err["hint"] = e.hint;
  return {{"ok", false}, {"error", std::move(err)}};
}

}  // namespace edgepoll::appliance
