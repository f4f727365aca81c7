#pragma once
// SIGHUP: re-reads the files and applies every section, restarting only what a
// change touches:
//   devices (files or [pollers.defaults])  -> only those devices' subtrees (config_cache ->
//   config_manager) [kafka]                                -> kafka_pool [health] -> health
//   [storage]                              -> storage_pool (and kafka_pool after it, to keep the
//   stop order) [pollers] backoff_*, stable_after      -> config_manager (it adopts the running
//   devices) [pollers] max_consecutive_failures     -> pollers and config_manager (every device)
//   [node]                                 -> kafka_pool and health (the id names the node there)
// Invalid files keep the running config and the log says exactly what is
// wrong; a valid reload logs what changed, or that nothing did.
#include <string>

#include "edgepoll/appliance/node_tree.hpp"
#include "edgepoll/supervision/runtime.hpp"

namespace edgepoll::appliance {

class ConfigReloader {
 public:
  ConfigReloader(supervision::Runtime& runtime, supervision::Pid root, NodeParts& parts,
                 std::string config_path);
  // On the event loop (the signal handler); the restarts it starts run on.
  void reload();

 private:
  supervision::Runtime& runtime_;
  supervision::Pid root_;
  NodeParts& parts_;
  std::string config_path_;
};

}  // namespace edgepoll::appliance
