#pragma once
// What a simulated device does when polled. Parsed from short specs so that
// tests, demos and benchmarks can script devices on the command line:
//   normal | slow:<dur> | garbage | truncated | nonutf8 | wrongtype | huge:<bytes>
//   | status:<code> | reset | hang | flap:<period> | bearer:<token>
//   | basic:<user>:<password> | schedule:<spec>@<dur>,<spec>@<dur>,...
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "edgepoll/supervision/result.hpp"

namespace edgepoll::devicesim {

using Duration = std::chrono::nanoseconds;

enum class Kind {
  normal, slow, garbage, truncated, nonutf8, wrongtype, huge, status, reset, hang,
  flap, bearer, basic, schedule
};

struct Step;

struct Behaviour {
  Kind kind = Kind::normal;
  Duration latency{};        // slow
  std::size_t size = 0;      // huge
  int status = 200;          // status
  Duration period{};         // flap: up (normal) for period, then down (reset)
  std::string credential;    // bearer: token; basic: base64("user:password")
  std::vector<Step> steps;   // schedule, cycled through
  std::string spec;          // the text it was parsed from

  static Result<Behaviour> parse(std::string_view spec);
  // The concrete behaviour at `elapsed` since the device's epoch: resolves flap
  // and schedule to one of the leaf kinds.
  const Behaviour& at(Duration elapsed) const;
};

struct Step {
  Behaviour behaviour;
  Duration length{};
};

// Text for --help: every behaviour with an example.
std::string behaviour_help();

}  // namespace edgepoll::devicesim
