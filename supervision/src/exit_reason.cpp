#include "edgepoll/supervision/exit_reason.hpp"

namespace edgepoll::supervision {

std::string ExitReason::to_string() const {
  switch (kind_) {
    case Kind::normal: return "normal";
    case Kind::shutdown: return detail_.empty() ? "shutdown" : "{shutdown," + detail_ + "}";
    case Kind::killed: return "killed";
    case Kind::kill: return "kill";
    case Kind::noproc: return "noproc";
    case Kind::error: return "{error," + detail_ + "}";
  }
  return "unknown";
}

}  // namespace edgepoll::supervision
