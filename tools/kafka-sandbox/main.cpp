// kafka-sandbox: librdkafka's mock cluster as a standalone Kafka peer (real
// protocol on loopback TCP) for the demo, the tests and anyone trying edgepoll
// without a Kafka cluster. Prints "bootstrap=<servers>" as its first line.
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <pthread.h>

#include "edgepoll/kafka/mock_cluster.hpp"
#include "sandbox_commands.hpp"

using edgepoll::kafka::MockCluster;
namespace sandbox = edgepoll::kafka::sandbox;

namespace {

// "name" or "name:partitions".
bool create_topic(MockCluster& cluster, const std::string& spec, int default_partitions) {
  std::string name = spec;
  int partitions = default_partitions;
  if (auto colon = spec.rfind(':'); colon != std::string::npos) {
    name = spec.substr(0, colon);
    try {
      partitions = std::stoi(spec.substr(colon + 1));
    } catch (const std::exception&) {
      partitions = 0;
    }
  }
  auto s = cluster.create_topic(name, partitions);
  if (!s) std::cerr << "kafka-sandbox: --topic " << spec << ": " << s.error().describe() << "\n";
  return s.ok();
}

// Reads drill commands until EOF. EOF ends the sandbox only with --exit-on-eof:
// the demo starts it in the background with stdin from /dev/null.
void read_commands(MockCluster& cluster, bool exit_on_eof) {
  for (std::string line; std::getline(std::cin, line);) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto reply = sandbox::run_command(cluster, line);
    std::string out = reply ? *reply : "error: " + reply.error().describe();
    std::fputs((out + "\n").c_str(), stdout);
    std::fflush(stdout);
  }
  if (exit_on_eof) kill(getpid(), SIGTERM);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "kafka-sandbox: a Kafka cluster in one process (librdkafka's mock cluster, real\n"
      "Kafka protocol on loopback TCP, random ports). Prints \"bootstrap=<servers>\" as\n"
      "its first line on stdout, then runs until SIGTERM or SIGINT.\n"
      "Example: kafka-sandbox --brokers 3 --topic edgepoll.readings:4 --stdin-commands\n\n" +
      sandbox::commands_help()};
  int brokers = 3;
  int partitions = 4;
  std::vector<std::string> topics;
  bool stdin_commands = false;
  bool exit_on_eof = false;
  app.add_option("-b,--brokers", brokers, "number of brokers (ids 1..N)")->check(CLI::Range(1, 32));
  app.add_option("-t,--topic", topics, "topic to create, NAME or NAME:PARTITIONS (repeatable)");
  app.add_option("-p,--partitions", partitions, "partitions of a --topic given without them")
      ->check(CLI::Range(1, 1024));
  app.add_flag("--stdin-commands", stdin_commands, "read fault-drill commands from stdin");
  app.add_flag("--exit-on-eof", exit_on_eof,
               "with --stdin-commands: stop when stdin closes (tests: dies with its parent)");
  CLI11_PARSE(app, argc, argv);

  // Block the stop signals before librdkafka starts its threads, so that only
  // sigwait() below receives them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  auto cluster = MockCluster::start(brokers);
  if (!cluster) {
    std::cerr << "kafka-sandbox: " << cluster.error().describe() << "\n";
    return 1;
  }
  for (const auto& spec : topics)
    if (!create_topic(**cluster, spec, partitions)) return 2;
  std::fputs(("bootstrap=" + (*cluster)->bootstrap_servers() + "\n").c_str(), stdout);
  std::fflush(stdout);

  if (stdin_commands) std::thread(read_commands, std::ref(**cluster), exit_on_eof).detach();
  int sig = 0;
  sigwait(&stop, &sig);
  std::cerr << "kafka-sandbox: stopping on signal " << sig << "\n";
  // The reader thread may be blocked in getline; exiting without joining it is fine.
  std::fflush(stdout);
  std::_Exit(0);
}
