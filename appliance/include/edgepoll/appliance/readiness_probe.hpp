#pragma once
// What the health side asks the readiness evaluator: is the node fit to receive
// work, and if not, why. Registration deregisters on `ready == false` held for
// a while; /ready and STATUS= show the same verdict.
#include <functional>
#include <string>

namespace edgepoll::appliance {

struct ReadinessVerdict {
  bool ready = false;
  // Failing checks in words, e.g. "kafka: oldest unacknowledged reading 94 s (max 60 s)"; empty when ready.
  std::string reason;
};

// Evaluated on the event loop; cheap (reads counters, never blocks on the writer).
using ReadinessProbe = std::function<ReadinessVerdict()>;

}  // namespace edgepoll::appliance
