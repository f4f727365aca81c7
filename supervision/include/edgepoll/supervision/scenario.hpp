#pragma once
// The scenario runner: a JSON tree and steps in, one trace line per step out.
// The same input runs against Erlang/OTP's own supervisor
// (tools/supervision-scenario/otp/scenario.escript), so that the two can be diffed.
//
//   {"tree": SPEC, "steps": [STEP, ...]}
//   SPEC = {"id", "type": "supervisor", "strategy", "intensity", "period", "restart",
//           "children": [SPEC...]} (simple_one_for_one: "template": SPEC)
//        | {"id", "type": "worker", "restart"}
//   STEP = {"exit": {"path", "reason": "crash|normal|shutdown|kill"}}
//        | {"start_child": {"sup", "id"}} | {"terminate_child": {"sup", "id"}}
//        | {"fail_starts": {"path", "count"}} | {"sleep_ms": N}
//   out: {"step": N, "alive": [sorted paths of living processes]}
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "edgepoll/supervision/result.hpp"

namespace edgepoll::supervision::scenario {

struct Options {
  bool log_reports = false;  // supervision reports to the log (stderr)
};

// Runs one scenario on a FakeClock. Returns the trace lines, or an Error naming
// the offending field (e.g. "tree.children[1].strategy").
Result<std::vector<std::string>> run(const nlohmann::json& input, const Options& options = {});

// One trace line, formatted exactly as the OTP reference prints it.
std::string format_step(std::size_t step, const std::vector<std::string>& alive);

}  // namespace edgepoll::supervision::scenario
