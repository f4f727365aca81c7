// supervision-scenario: reads one JSON scenario on stdin, runs it on the
// edgepoll runtime and prints one JSON line per step. See scenario.hpp.
#include <iostream>
#include <iterator>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "edgepoll/supervision/scenario.hpp"

int main(int argc, char** argv) {
  edgepoll::supervision::scenario::Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--reports") {
      options.log_reports = true;
    } else {
      std::cerr << "usage: supervision-scenario [--reports] < scenario.json\n"
                   "  Runs a supervision scenario (tree + steps) and prints one line per step:\n"
                   "  {\"step\": N, \"alive\": [sorted paths of living processes]}\n"
                   "  --reports  also log every supervision report to stderr\n";
      return arg == "--help" || arg == "-h" ? 0 : 2;
    }
  }
  spdlog::set_default_logger(spdlog::stderr_logger_st("scenario"));
  const std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  const auto input = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (input.is_discarded()) {
    std::cerr << "supervision-scenario: stdin: not valid JSON (expected {\"tree\": ..., \"steps\": [...]})\n";
    return 2;
  }
  auto trace = edgepoll::supervision::scenario::run(input, options);
  if (!trace.ok()) {
    std::cerr << "supervision-scenario: " << trace.error().message << "\n";
    return 2;
  }
  for (const auto& line : trace.value()) std::cout << line << "\n";
  return 0;
}
