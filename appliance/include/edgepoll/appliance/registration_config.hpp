#pragma once
// [registration]: the node announces itself in etcd for service discovery.
// Optional; without the section no registration worker is in the tree.
//
//   [registration]
//   endpoints = ["http://10.0.0.5:2379", "http://10.0.0.6:2379"]  # required, tried in turn
//   prefix = "/edgepoll"          # the key is <prefix>/nodes/<node id>
//   ttl = "10s"                   # lease TTL; keepalive every ttl/3
//   deregister_after = "10s"      # readiness failing this long -> the key is revoked
//   reregister_after = "30s"      # readiness holding this long -> registered again
//   watch = ["root/deps", "root/edge"]  # a subtree down or restarting too often -> revoked at once
//   advertise = "10.0.0.17:8470"  # the address others should use; default [health] address:port
#include <toml++/toml.h>

#include <string>
#include <vector>

#include "edgepoll/supervision/clock.hpp"
#include "edgepoll/supervision/result.hpp"

namespace edgepoll::appliance {

struct RegistrationConfig {
  std::vector<std::string> endpoints;
  std::string prefix = "/edgepoll";
  std::chrono::seconds ttl{10};
  supervision::Duration deregister_after = std::chrono::seconds(10);
  supervision::Duration reregister_after = std::chrono::seconds(30);
  std::vector<std::string> watch = {"root/deps", "root/edge"};
  std::string advertise;  // "" = the health endpoint's address and bound port

  static Result<RegistrationConfig> parse(const toml::table& section);
};

}  // namespace edgepoll::appliance
