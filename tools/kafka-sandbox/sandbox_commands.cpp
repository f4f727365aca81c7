#include "sandbox_commands.hpp"

#include <charconv>
#include <sstream>
#include <vector>

#include <fmt/format.h>

namespace edgepoll::kafka::sandbox {
namespace {

std::vector<std::string> words(std::string_view line) {
  std::istringstream in{std::string(line)};
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

Error usage(std::string_view line, std::string_view why) {
  return make_error("sandbox.bad_command", fmt::format("\"{}\": {}", line, why), false,
                    "see kafka-sandbox --help");
}

Result<int> integer(std::string_view line, const std::string& w, std::string_view what) {
  int v = 0;
  auto [p, ec] = std::from_chars(w.data(), w.data() + w.size(), v);
  if (ec != std::errc{} || p != w.data() + w.size())
    return usage(line, fmt::format("{}: expected a number, got \"{}\"", what, w));
  return v;
}

}  // namespace

std::string commands_help() {
  return fmt::format(
      "Fault-drill commands (stdin, one per line, with --stdin-commands):\n"
      "  down <broker>|all            take a broker (id 1..N) or every broker down\n"
      "  up <broker>|all              bring it back up\n"
      "  error <api> <code> [count]   fail the next count (default 1) requests of api\n"
      "                               with a Kafka error, e.g. error produce\n"
      "                               NOT_LEADER_FOR_PARTITION 3\n"
      "                               api: a number or one of {}\n"
      "                               code: a number or a Kafka error name\n"
      "  topic-error <topic> <code>   every request about topic fails with code\n"
      "                               (NO_ERROR clears it)\n"
      "  create <topic> [partitions]  create a topic (default 1 partition)\n"
      "Each command answers one line on stdout: \"ok <command>\" or \"error: <why>\".\n",
      MockCluster::api_names());
}

Result<std::string> run_command(MockCluster& cluster, std::string_view line) {
  const auto w = words(line);
  if (w.empty()) return usage(line, "empty command");
  const std::string& verb = w[0];
  Status done = ok_status();
  if ((verb == "down" || verb == "up") && w.size() == 2) {
    int broker = 0;
    if (w[1] != "all") {
      auto id = integer(line, w[1], "broker");
      if (!id) return id.take_error();
      if (*id < 1) return usage(line, "broker: expected an id >= 1 or \"all\"");
      broker = *id;
    }
    done = verb == "down" ? cluster.set_broker_down(broker) : cluster.set_broker_up(broker);
  } else if (verb == "error" && (w.size() == 3 || w.size() == 4)) {
    int count = 1;
    if (w.size() == 4) {
      auto c = integer(line, w[3], "count");
      if (!c) return c.take_error();
      count = *c;
    }
    done = cluster.push_request_errors(w[1], w[2], count);
  } else if (verb == "topic-error" && w.size() == 3) {
    done = cluster.set_topic_error(w[1], w[2]);
  } else if (verb == "create" && (w.size() == 2 || w.size() == 3)) {
    int partitions = 1;
    if (w.size() == 3) {
      auto p = integer(line, w[2], "partitions");
      if (!p) return p.take_error();
      partitions = *p;
    }
    done = cluster.create_topic(w[1], partitions);
  } else {
    return usage(line, "unknown command or wrong number of arguments");
  }
  if (!done) return done.take_error();
  std::string echo;
  for (const auto& x : w) echo += (echo.empty() ? "" : " ") + x;
  return "ok " + echo;
}

}  // namespace edgepoll::kafka::sandbox
