#pragma once
// The fault-drill language of kafka-sandbox's stdin, one command per line.
#include <string>
#include <string_view>

#include "edgepoll/kafka/mock_cluster.hpp"

namespace edgepoll::kafka::sandbox {

// Text for --help.
std::string commands_help();

// Runs one command line against the cluster; returns what to print ("ok ...")
// or an error naming what was wrong with the line.
Result<std::string> run_command(MockCluster& cluster, std::string_view line);

}  // namespace edgepoll::kafka::sandbox
