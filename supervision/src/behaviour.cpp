#include "edgepoll/supervision/behaviour.hpp"

#include <nlohmann/json.hpp>

#include "edgepoll/supervision/process.hpp"
#include "edgepoll/supervision/runtime.hpp"

namespace edgepoll::supervision {

InitResult Behaviour::init(Process&) { return InitResult::ok(); }

void Behaviour::handle(Process& self, Message& message) { unexpected(self, message); }

void Behaviour::terminate(Process&, const ExitReason&) {}

void Behaviour::describe(nlohmann::json&) const {}

void Behaviour::unexpected(Process& self, const Message& message) {
  self.runtime().report(Report{ReportKind::unexpected_message, self.path(), "",
                               ExitReason::normal(), describe_message(message)});
}

}  // namespace edgepoll::supervision
