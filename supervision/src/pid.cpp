#include "edgepoll/supervision/pid.hpp"

#include "edgepoll/supervision/process.hpp"

namespace edgepoll::supervision {

Pid::Pid(std::shared_ptr<Process> process) : process_(std::move(process)) {}

std::uint64_t Pid::id() const { return process_ ? process_->id() : 0; }

bool Pid::alive() const { return process_ && process_->alive(); }

const std::string& Pid::path() const {
  static const std::string none;
  return process_ ? process_->path() : none;
}

}  // namespace edgepoll::supervision
