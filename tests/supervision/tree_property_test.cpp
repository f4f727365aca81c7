// Property: for random trees and random exits, the runtime kills, restarts and
// gives up exactly where a pure model of OTP's rules says it must. A process the
// model expects to die has died (new pid or gone); one it expects to live kept
// its pid, so no supervisor outside the affected subtree was touched.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <map>

#include "test_support.hpp"
#include "support/tree_model.hpp"

namespace edgepoll::supervision {
namespace {
using namespace testing;

// Builds a tree from a list of numbers (so that RapidCheck can shrink it).
class Recipe {
 public:
  explicit Recipe(const std::vector<int>& v) : v_(v) {}
  int next(int bound) { return i_ < v_.size() ? static_cast<int>(static_cast<unsigned>(v_[i_++]) % static_cast<unsigned>(bound)) : 0; }

 private:
  const std::vector<int>& v_;
  std::size_t i_ = 0;
};

model::Spec make_spec(Recipe& r, std::string id, int depth) {
  model::Spec s;
  s.id = std::move(id);
  s.supervisor = true;
  const Strategy strategies[] = {Strategy::one_for_one, Strategy::one_for_all, Strategy::rest_for_one};
  s.strategy = strategies[r.next(3)];
  // A generous root keeps most runs going long enough to reach deep give-ups.
  s.intensity = depth == 0 ? 4 + r.next(8) : r.next(4);
  s.period = 1 + r.next(5);
  const int n = 1 + r.next(4);
  for (int i = 0; i < n; ++i) {
    const bool sup = depth < 3 && r.next(3) == 0;
    model::Spec c = sup ? make_spec(r, "s" + std::to_string(i), depth + 1) : model::Spec{};
    if (!sup) c.id = "w" + std::to_string(i);
    const Restart restarts[] = {Restart::permanent, Restart::transient, Restart::temporary};
    c.restart = restarts[r.next(3)];
    s.children.push_back(std::move(c));
  }
  return s;
}

SupervisorSpec to_runtime(const model::Spec& s) {
  SupervisorSpec out{{s.strategy, s.intensity, s.period}, {}};
  for (const auto& c : s.children) {
    if (c.supervisor) {
      out.children.push_back(supervisor_child(c.id, to_runtime(c), c.restart));
    } else {
      out.children.push_back(worker_child(c.id, worker_factory(), c.restart));
    }
  }
  return out;
}

RC_GTEST_PROP(TreeProperty, RuntimeMatchesTheModelUnderRandomExits,
              (const std::vector<int>& tree_recipe, const std::vector<std::tuple<int, int, int>>& steps)) {
  Recipe recipe(tree_recipe);
  const model::Spec spec = make_spec(recipe, "root", 0);
  model::Tree model(spec);
  TestNode node;
  auto started = node.runtime.spawn(std::make_shared<Supervisor>(to_runtime(spec)), "root");
  RC_ASSERT(started.ok());
  Pid root = started.value();
  node.settle();

  std::size_t executed = 0;
  const ExitReason reasons[] = {ExitReason::error("crash"), ExitReason::normal(), ExitReason::shutdown(),
                                ExitReason::kill()};
  for (const auto& [pick, reason_index, sleep] : steps) {
    auto before_real = living_processes(root);
    auto before_model = model.living();
    RC_ASSERT(before_real.size() == before_model.size());
    if (before_real.empty()) break;
    if (sleep % 4 == 0) {
      const auto ms = std::abs(sleep % 3000);
      node.advance(std::chrono::milliseconds(ms));
      model.sleep_ms(ms);
    }
    // A random living process (the root too) exits with a random reason.
    auto it = before_real.begin();
    std::advance(it, static_cast<long>(static_cast<unsigned>(pick) % before_real.size()));
    const std::string path = it->first;
    const Pid target = it->second;
    const ExitReason reason = reasons[static_cast<unsigned>(reason_index) % 4];
    const bool is_supervisor = target.get()->behaviour() && target.get()->behaviour()->kind() == "supervisor";
    if (reason.kind() == ExitReason::Kind::kill) {
      node.runtime.exit(target, reason);
    } else if (is_supervisor) {
      stop_supervisor(node.runtime, target, reason);
    } else {
      node.runtime.send(target, ExitWith{reason});
    }
    node.settle();
    model.exit(path, reason);
    ++executed;

    auto after_real = living_processes(root);
    auto after_model = model.living();
    std::vector<std::string> real_paths, model_paths;
    for (auto& [p, _] : after_real) real_paths.push_back(p);
    for (auto& [p, _] : after_model) model_paths.push_back(p);
    RC_ASSERT(real_paths == model_paths);
    // Same survivors: a process the model kept must have kept its pid; one the
    // model restarted must have a new one.
    for (const auto& [p, incarnation] : after_model) {
      const bool model_restarted = !before_model.count(p) || before_model.at(p) != incarnation;
      const bool real_restarted = !before_real.count(p) || !(before_real.at(p) == after_real.at(p));
      RC_ASSERT(model_restarted == real_restarted);
    }
  }
  RC_CLASSIFY(executed >= 10, "10+ exits");
  RC_CLASSIFY(!root.alive(), "root gave up");
  RC_CLASSIFY(node.observer->count(ReportKind::restart_intensity_reached) > 0, "some supervisor gave up");
  node.runtime.exit(root, ExitReason::kill());
  node.settle();
  RC_ASSERT(node.runtime.live_processes() == 0u);
}

}  // namespace
}  // namespace edgepoll::supervision
