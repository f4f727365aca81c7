// storage-crash-writer <db>: the process the kill -9 test kills. It writes
// readings through the real BatchWriter as fast as it can and prints one line
// "<device> <seq>\n" on stdout for every acknowledgement, i.e. only after the
// reading's transaction has committed. The parent kills it at random points.
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "edgepoll/storage/batch_writer.hpp"

using namespace edgepoll::storage;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: storage-crash-writer <db>\n");
    return 2;
  }
  // stdout carries the acknowledgements; logs go to stderr.
  spdlog::set_default_logger(spdlog::stderr_color_mt("stderr"));
  StoreConfig cfg;
  cfg.path = argv[1];
  cfg.batch_max_rows = 64;
  cfg.batch_max_delay_ms = 1;
  cfg.queue_capacity = 4096;
  cfg.max_outbox_bytes = 0;
  cfg.max_outbox_age_s = 0;
  auto db = Database::open(cfg);
  if (!db) {
    std::fprintf(stderr, "%s\n", db.error().describe().c_str());
    return 3;
  }
  BatchWriter writer(std::move(*db), cfg);
  for (std::uint64_t i = 0;; ++i) {
    Reading r{fmt::format("dev-{}", i % 5), static_cast<std::int64_t>(i), std::string(100, 'k')};
    auto s = writer.submit(std::move(r), [](edgepoll::Result<Ack> a) {
      if (!a.ok()) return;
      // One write(2) per line: a line is in the pipe whole or not at all.
      const auto line = fmt::format("{} {}\n", a->id.device_id, a->id.seq);
      if (::write(1, line.data(), line.size()) < 0) ::_exit(4);
    });
    if (!s.ok()) std::this_thread::yield();  // queue full: let the writer catch up
  }
}
