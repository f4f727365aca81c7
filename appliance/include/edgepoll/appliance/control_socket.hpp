#pragma once
// control_socket, a supervised worker under `health`: the operator's write path
// (edgepollctl device enable|disable|poll-now, dlq replay|drop, config overlay
// clear) and config show, which may carry device settings the TCP port must
// not show. Other reads go
// through the health endpoint and the state DB opened read-only; everything
// that changes state comes here, over a Unix socket (ControlSocketServer).
//
// Device actions are the config manager's DeviceCommand messages, as Kafka
// commands are. Dead letters change only through the storage writer (the store
// has one writer): a reading is put back into the outbox, a command is applied
// again through the same path a Kafka command takes and leaves the table once
// applied, a drop is logged with the operator's reason.
#include <memory>
#include <mutex>
#include <string>

#include "edgepoll/appliance/chaos.hpp"
#include "edgepoll/appliance/config_cache.hpp"
#include "edgepoll/appliance/control_config.hpp"
#include "edgepoll/appliance/control_request.hpp"
#include "edgepoll/appliance/control_socket_server.hpp"
#include "edgepoll/storage/storage_pool.hpp"
#include "edgepoll/supervision/process.hpp"

namespace edgepoll::appliance {

// Executes parsed requests; answers on any thread, exactly once (control.timeout
// after 10 s when the config manager or the writer does not answer). Held by
// shared_ptr: answers still in flight keep it alive after its process ended.
// chaos.* requests go to `chaos`; without it ([chaos] not enabled) they are
// refused with chaos.disabled.
class ControlOperations : public std::enable_shared_from_this<ControlOperations> {
 public:
  // `config`: the config cache's view, for config.show (null: config.show is refused).
  ControlOperations(supervision::Runtime& runtime, std::shared_ptr<storage::WriterHandle> writer,
                    std::shared_ptr<const ConfigView> config = nullptr, std::string root_name = "root",
                    std::shared_ptr<Chaos> chaos = nullptr);
  void execute(const ControlRequest& request, ControlAnswer answer);

 private:
  void device(const ControlRequest& request, ControlAnswer answer);
  void dead_letters(const ControlRequest& request, ControlAnswer answer);
  void config_show(const ControlRequest& request, ControlAnswer answer);
  void overlay_clear(const ControlRequest& request, ControlAnswer answer);

  supervision::Runtime& runtime_;
  std::shared_ptr<storage::WriterHandle> writer_;
  std::shared_ptr<const ConfigView> config_;
  std::string root_name_;
  std::shared_ptr<Chaos> chaos_;
};

// A socket that cannot be bound (no runtime directory outside systemd, another
// daemon on the same path) is logged once and retried every 5 s: polling goes
// on without operator writes, and /tree says "listening": false with the error.
class ControlSocket final : public supervision::Behaviour {
 public:
  // `faults` (only with [chaos] enabled) turns the chaos.* requests on.
  ControlSocket(ControlConfig config, std::shared_ptr<storage::WriterHandle> writer,
                std::shared_ptr<const ConfigView> view = nullptr, std::string root_name = "root",
                std::shared_ptr<supervision::FaultSwitch> faults = nullptr);
  supervision::InitResult init(supervision::Process& self) override;
  void handle(supervision::Process& self, supervision::Message& message) override;
  void terminate(supervision::Process& self, const supervision::ExitReason& reason) override;
  void describe(nlohmann::json& out) const override;

 private:
  struct Retry {};
  void listen(supervision::Process& self);

  ControlConfig config_;
  std::shared_ptr<storage::WriterHandle> writer_;
  std::shared_ptr<const ConfigView> view_;
  std::string root_name_;
  std::shared_ptr<supervision::FaultSwitch> faults_;
  std::shared_ptr<ControlOperations> operations_;
  std::unique_ptr<ControlSocketServer> server_;
  mutable std::mutex describe_mutex_;
  std::string error_;  // why it is not listening; "" while it is
};

}  // namespace edgepoll::appliance
