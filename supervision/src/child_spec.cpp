#include "edgepoll/supervision/child_spec.hpp"

#include "edgepoll/supervision/supervisor.hpp"

namespace edgepoll::supervision {

std::string_view to_string(Strategy s) {
  switch (s) {
    case Strategy::one_for_one: return "one_for_one";
    case Strategy::one_for_all: return "one_for_all";
    case Strategy::rest_for_one: return "rest_for_one";
    case Strategy::simple_one_for_one: return "simple_one_for_one";
  }
  return "unknown";
}

std::string_view to_string(Restart r) {
  switch (r) {
    case Restart::permanent: return "permanent";
    case Restart::transient: return "transient";
    case Restart::temporary: return "temporary";
  }
  return "unknown";
}

std::string_view to_string(ChildType t) {
  return t == ChildType::supervisor ? "supervisor" : "worker";
}

std::string Shutdown::to_string() const {
  switch (kind_) {
    case Kind::brutal_kill: return "brutal_kill";
    case Kind::infinity: return "infinity";
    case Kind::timeout:
      return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(timeout_).count()) +
             "ms";
  }
  return "unknown";
}

ChildSpec worker_child(std::string id, ChildFactory factory, Restart restart, Shutdown shutdown) {
  return ChildSpec{std::move(id), std::move(factory), restart, shutdown, ChildType::worker};
}

ChildSpec supervisor_child(std::string id, SupervisorSpec spec, Restart restart) {
  auto shared = std::make_shared<const SupervisorSpec>(std::move(spec));
  ChildFactory factory = [shared](const ChildStart&) -> Result<std::shared_ptr<Behaviour>> {
    return std::shared_ptr<Behaviour>(std::make_shared<Supervisor>(*shared));
  };
  return ChildSpec{std::move(id), std::move(factory), restart, Shutdown::infinity(),
                   ChildType::supervisor};
}

}  // namespace edgepoll::supervision
