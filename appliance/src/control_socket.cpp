#include "edgepoll/appliance/control_socket.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "edgepoll/supervision/runtime.hpp"

namespace edgepoll::appliance {

using namespace supervision;

ControlSocket::ControlSocket(ControlConfig config, std::shared_ptr<storage::WriterHandle> writer,
                             std::shared_ptr<const ConfigView> view, std::string root_name,
                             std::shared_ptr<FaultSwitch> faults)
    : config_(std::move(config)),
      writer_(std::move(writer)),
      view_(std::move(view)),
      root_name_(std::move(root_name)),
      faults_(std::move(faults)) {}

InitResult ControlSocket::init(Process& self) {
  auto chaos = faults_ ? std::make_shared<Chaos>(self.runtime(), root_name_, faults_) : nullptr;
  operations_ = std::make_shared<ControlOperations>(self.runtime(), writer_, view_, root_name_, std::move(chaos));
  server_ = std::make_unique<ControlSocketServer>(
      self.runtime().io(),
      [ops = operations_](const std::string& line, ControlAnswer answer) {
        auto request = ControlRequest::parse(line);
        if (!request.ok()) {
          // Once per refused request: an operator's typo, not an incident.
          spdlog::warn("control event=refused error={}", request.error().code);
          return answer(control_error(request.error()));
        }
        ops->execute(request.value(), std::move(answer));
      },
      config_.max_request_bytes);
  listen(self);
  return InitResult::ok();
}

void ControlSocket::listen(Process& self) {
  auto s = server_->start(config_.socket, config_.group);
  std::lock_guard lock(describe_mutex_);
  if (s.ok()) {
    error_.clear();
    return;
  }
  if (error_ != s.error().describe()) {  // once per cause, not every 5 s
    spdlog::error("control event=not_listening error={}", s.error().describe());
    error_ = s.error().describe();
  }
  self.send_after(std::chrono::seconds(5), Retry{});
}

void ControlSocket::handle(Process& self, Message& m) {
  if (!std::any_cast<Retry>(&m)) return unexpected(self, m);
  listen(self);
}

void ControlSocket::terminate(Process&, const ExitReason&) {
  if (server_) server_->stop();
}

void ControlSocket::describe(nlohmann::json& out) const {
  std::lock_guard lock(describe_mutex_);
  out["socket"] = config_.socket;
  out["listening"] = error_.empty();
  out["chaos"] = faults_ != nullptr;
  if (!error_.empty()) out["error"] = error_;
}

}  // namespace edgepoll::appliance
