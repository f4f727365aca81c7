#pragma once
// How a supervisor starts, restarts and stops one child (OTP's child_spec).
#include <any>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "edgepoll/supervision/behaviour.hpp"
#include "edgepoll/supervision/clock.hpp"
#include "edgepoll/supervision/result.hpp"

namespace edgepoll::supervision {

enum class Strategy { one_for_one, one_for_all, rest_for_one, simple_one_for_one };
// permanent: always restarted. transient: restarted unless it ended normal,
// shutdown or {shutdown,_}. temporary: never restarted, removed when it ends.
enum class Restart { permanent, transient, temporary };
enum class ChildType { worker, supervisor };

std::string_view to_string(Strategy s);
std::string_view to_string(Restart r);
std::string_view to_string(ChildType t);

// How a child is stopped: brutal_kill (untrappable kill), a timeout after which
// it is killed, or infinity (wait as long as it takes; the default for supervisors).
class Shutdown {
 public:
  static Shutdown brutal_kill() { return Shutdown(Kind::brutal_kill, {}); }
  static Shutdown timeout(Duration d) { return Shutdown(Kind::timeout, d); }
  static Shutdown infinity() { return Shutdown(Kind::infinity, {}); }
  bool is_brutal_kill() const { return kind_ == Kind::brutal_kill; }
  bool is_infinity() const { return kind_ == Kind::infinity; }
  Duration timeout_value() const { return timeout_; }
  std::string to_string() const;

 private:
  enum class Kind { brutal_kill, timeout, infinity };
  Shutdown(Kind k, Duration d) : kind_(k), timeout_(d) {}
  Kind kind_;
  Duration timeout_;
};

// What a start gets: the child's id, for simple_one_for_one children the
// arguments given to start_child, and where in the tree it is being started.
struct ChildStart {
  std::string id;
  std::any args;
  std::string parent_path;  // the supervisor's path; the child's is parent_path + "/" + id
};

// Makes the child's behaviour; an Error here is a start error, like one from init.
using ChildFactory = std::function<Result<std::shared_ptr<Behaviour>>(const ChildStart&)>;

struct ChildSpec {
  std::string id;
  ChildFactory start;
  Restart restart = Restart::permanent;
  Shutdown shutdown = Shutdown::timeout(std::chrono::seconds(5));
  ChildType type = ChildType::worker;
};

struct SupervisorFlags {
  Strategy strategy = Strategy::one_for_one;
  int intensity = 1;   // MaxR: restarts allowed ...
  int period_s = 5;    // ... within this many seconds (OTP's defaults: 1 in 5)
};

struct SupervisorSpec {
  SupervisorFlags flags;
  // Static children in start order; for simple_one_for_one exactly one: the template.
  std::vector<ChildSpec> children;
};

// A worker child made by `factory`.
ChildSpec worker_child(std::string id, ChildFactory factory, Restart restart = Restart::permanent,
                       Shutdown shutdown = Shutdown::timeout(std::chrono::seconds(5)));
// A supervisor child running `spec` (shutdown infinity, as OTP's default).
ChildSpec supervisor_child(std::string id, SupervisorSpec spec,
                           Restart restart = Restart::permanent);

}  // namespace edgepoll::supervision
