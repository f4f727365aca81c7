#pragma once
// [node]: who this appliance is. Its id names it in service discovery, in the
// Kafka consumer group of its commands and in the commands addressed to it.
//
//   [node]
//   id = "boiler-room-3"   # default: the host name
#include <string>

#include <toml++/toml.h>

#include "edgepoll/supervision/result.hpp"

namespace edgepoll::appliance {

struct NodeConfig {
  std::string id;  // never empty after parse() or defaults()

  static NodeConfig defaults();  // id = the host name
  static Result<NodeConfig> parse(const toml::table& section);
};

}  // namespace edgepoll::appliance
