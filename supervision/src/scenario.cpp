#include "edgepoll/supervision/scenario.hpp"

#include <algorithm>
#include <map>

#include <boost/asio/io_context.hpp>

#include "edgepoll/supervision/supervisor.hpp"

namespace edgepoll::supervision::scenario {

namespace {
using nlohmann::json;

struct ExitCommand {
  ExitReason reason;
};

// A worker that does nothing until told to exit.
class ScenarioWorker final : public Behaviour {
 public:
  void handle(Process& self, Message& m) override {
    if (auto* e = std::any_cast<ExitCommand>(&m)) return self.exit(e->reason);
    unexpected(self, m);
  }
};

// "the next N starts of the child at this path fail"
using FailCounters = std::map<std::string, int>;

struct Builder {
  std::shared_ptr<FailCounters> fails;

  static Result<std::string> text(const json& j, const std::string& key, const std::string& where,
                                  const char* fallback = nullptr) {
    if (!j.contains(key)) {
      if (fallback) return std::string(fallback);
      return make_error("scenario.missing", where + "." + key + ": required");
    }
    if (!j[key].is_string()) return make_error("scenario.type", where + "." + key + ": expected a string");
    return j[key].get<std::string>();
  }
  static Result<int> number(const json& j, const std::string& key, const std::string& where, int fallback) {
    if (!j.contains(key)) return fallback;
    if (!j[key].is_number_integer()) return make_error("scenario.type", where + "." + key + ": expected an integer");
    return j[key].get<int>();
  }
  static Result<Restart> restart_of(const json& j, const std::string& where) {
    auto r = text(j, "restart", where, "permanent");
    if (!r.ok()) return r.take_error();
    if (*r == "permanent") return Restart::permanent;
    if (*r == "transient") return Restart::transient;
    if (*r == "temporary") return Restart::temporary;
    return make_error("scenario.value", where + ".restart: expected permanent|transient|temporary, got '" + *r + "'");
  }

  // A factory that honours fail_starts for the child it starts.
  ChildFactory guarded(ChildFactory inner) const {
    return [fails = fails, inner = std::move(inner)](
               const ChildStart& start) -> Result<std::shared_ptr<Behaviour>> {
      auto it = fails->find(start.parent_path + "/" + start.id);
      if (it != fails->end() && it->second > 0) {
        --it->second;
        return make_error("scenario.injected", "injected start failure");
      }
      return inner(start);
    };
  }

  Result<SupervisorSpec> supervisor(const json& j, const std::string& where) const {
    SupervisorSpec spec;
    auto strategy = text(j, "strategy", where, "one_for_one");
    if (!strategy.ok()) return strategy.take_error();
    static const std::map<std::string, Strategy> strategies = {
        {"one_for_one", Strategy::one_for_one}, {"one_for_all", Strategy::one_for_all},
        {"rest_for_one", Strategy::rest_for_one}, {"simple_one_for_one", Strategy::simple_one_for_one}};
    auto s = strategies.find(*strategy);
    if (s == strategies.end()) {
      return make_error("scenario.value", where + ".strategy: expected one_for_one|one_for_all|rest_for_one|simple_one_for_one, got '" + *strategy + "'");
    }
    spec.flags.strategy = s->second;
    auto intensity = number(j, "intensity", where, 1);  // OTP's defaults: 1 restart ...
    auto period = number(j, "period", where, 5);        // ... in 5 seconds
    if (!intensity.ok()) return intensity.take_error();
    if (!period.ok()) return period.take_error();
    spec.flags.intensity = *intensity;
    spec.flags.period_s = *period;
    if (spec.flags.strategy == Strategy::simple_one_for_one) {
      if (!j.contains("template") || !j["template"].is_object()) {
        return make_error("scenario.missing", where + ".template: required for simple_one_for_one");
      }
      auto child = child_spec(j["template"], where + ".template", /*dynamic=*/true);
      if (!child.ok()) return child.take_error();
      spec.children.push_back(std::move(child.value()));
      return spec;
    }
    if (j.contains("children") && !j["children"].is_array()) {
      return make_error("scenario.type", where + ".children: expected an array");
    }
    const json children = j.value("children", json::array());
    for (std::size_t i = 0; i < children.size(); ++i) {
      auto child = child_spec(children[i], where + ".children[" + std::to_string(i) + "]", false);
      if (!child.ok()) return child.take_error();
      spec.children.push_back(std::move(child.value()));
    }
    return spec;
  }

  Result<ChildSpec> child_spec(const json& j, const std::string& where, bool dynamic) const {
    if (!j.is_object()) return make_error("scenario.type", where + ": expected an object");
    auto id = text(j, "id", where, dynamic ? "template" : nullptr);
    auto type = text(j, "type", where, "worker");
    auto restart = restart_of(j, where);
    if (!id.ok()) return id.take_error();
    if (!type.ok()) return type.take_error();
    if (!restart.ok()) return restart.take_error();
    if (*type == "worker") {
      ChildFactory make = [](const ChildStart&) -> Result<std::shared_ptr<Behaviour>> {
        return std::shared_ptr<Behaviour>(std::make_shared<ScenarioWorker>());
      };
      return worker_child(*id, guarded(make), *restart);
    }
    if (*type != "supervisor") {
      return make_error("scenario.value", where + ".type: expected worker|supervisor, got '" + *type + "'");
    }
    auto nested = supervisor(j, where);
    if (!nested.ok()) return nested.take_error();
    ChildSpec spec = supervisor_child(*id, std::move(nested.value()), *restart);
    spec.start = guarded(std::move(spec.start));
    return spec;
  }
};

Result<ExitReason> reason_of(const std::string& r, const std::string& where) {
  if (r == "crash") return ExitReason::error("crash");
  if (r == "normal") return ExitReason::normal();
  if (r == "shutdown") return ExitReason::shutdown();
  if (r == "kill") return ExitReason::kill();
  return make_error("scenario.value", where + ".reason: expected crash|normal|shutdown|kill, got '" + r + "'");
}
}  // namespace

std::string format_step(std::size_t step, const std::vector<std::string>& alive) {
  std::string out = "{\"step\": " + std::to_string(step) + ", \"alive\": [";
  for (std::size_t i = 0; i < alive.size(); ++i) {
    if (i) out += ", ";
    out += json(alive[i]).dump();
  }
  return out + "]}";
}

Result<std::vector<std::string>> run(const json& input, const Options& options) {
  if (!input.is_object() || !input.contains("tree") || !input["tree"].is_object()) {
    return make_error("scenario.missing", "tree: required (an object)");
  }
  if (input.contains("steps") && !input["steps"].is_array()) {
    return make_error("scenario.type", "steps: expected an array");
  }
  const json& tree = input["tree"];
  Builder builder{std::make_shared<FailCounters>()};
  auto root_id = Builder::text(tree, "id", "tree", "root");
  if (!root_id.ok()) return root_id.take_error();
  auto root_spec = builder.supervisor(tree, "tree");
  if (!root_spec.ok()) return root_spec.take_error();

  boost::asio::io_context io;
  FakeClock clock;
  Runtime rt(io, clock, options.log_reports);
  auto started = rt.spawn(std::make_shared<Supervisor>(std::move(root_spec.value())), *root_id);
  // A root that fails to start is simply not alive: every step then prints [].
  Pid root = started.ok() ? started.value() : Pid{};
  rt.settle();

  std::vector<std::string> trace;
  const json steps = input.value("steps", json::array());
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const json& step = steps[i];
    const std::string where = "steps[" + std::to_string(i) + "]";
    auto alive = living_processes(root);
    auto find = [&](const json& j, const char* key) -> Pid {
      if (!j.contains(key) || !j[key].is_string()) return Pid{};
      auto it = alive.find(j[key].get<std::string>());
      return it == alive.end() ? Pid{} : it->second;
    };
    if (step.contains("exit")) {
      const json& e = step["exit"];
      auto reason = reason_of(e.value("reason", std::string()), where + ".exit");
      if (!reason.ok()) return reason.take_error();
      if (Pid target = find(e, "path")) {
        const bool is_supervisor = target.get()->behaviour() &&
                                   target.get()->behaviour()->kind() == "supervisor";
        if (reason->kind() == ExitReason::Kind::kill) {
          rt.exit(target, *reason);
        } else if (is_supervisor) {
          stop_supervisor(rt, target, *reason);
        } else {
          rt.send(target, ExitCommand{*reason});
        }
      }
    } else if (step.contains("start_child")) {
      const json& s = step["start_child"];
      const std::string id = s.value("id", std::string());
      if (Pid sup = find(s, "sup")) {
        bool dynamic = false;
        if (auto b = sup.get()->behaviour()) {
          nlohmann::json d;
          b->describe(d);
          dynamic = d.value("strategy", std::string()) == "simple_one_for_one";
        }
        auto ignore = [](Result<Pid>) {};
        if (dynamic) {
          start_child(rt, sup, ChildStart{id, {}, {}}, ignore);
        } else {
          ChildFactory make = builder.guarded(
              [](const ChildStart&) -> Result<std::shared_ptr<Behaviour>> {
                return std::shared_ptr<Behaviour>(std::make_shared<ScenarioWorker>());
              });
          start_child(rt, sup, worker_child(id, make), ignore);
        }
      }
    } else if (step.contains("terminate_child")) {
      const json& t = step["terminate_child"];
      if (Pid sup = find(t, "sup")) terminate_child(rt, sup, t.value("id", std::string()), [](Status) {});
    } else if (step.contains("fail_starts")) {
      const json& f = step["fail_starts"];
      (*builder.fails)[f.value("path", std::string())] = f.value("count", 0);
    } else if (step.contains("sleep_ms")) {
      if (!step["sleep_ms"].is_number_integer()) {
        return make_error("scenario.type", where + ".sleep_ms: expected an integer");
      }
      rt.advance(std::chrono::milliseconds(step["sleep_ms"].get<std::int64_t>()));
    } else {
      return make_error("scenario.value", where + ": expected one of exit, start_child, terminate_child, fail_starts, sleep_ms");
    }
    rt.settle();
    std::vector<std::string> paths;
    for (const auto& [path, pid] : living_processes(root)) paths.push_back(path);
    trace.push_back(format_step(i, paths));
  }
  // Stop what is left so that the run ends clean.
  if (root.alive()) {
    rt.exit(root, ExitReason::kill());
    rt.settle();
  }
  return trace;
}

}  // namespace edgepoll::supervision::scenario
