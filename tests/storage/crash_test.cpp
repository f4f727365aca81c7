// kill -9 in the middle of batched writes, many times: every reading whose
// write was acknowledged is on disk afterwards, the store still boots, and no
// sequence number is ever handed out twice. Short form by default (20 kills);
// EDGEPOLL_SOAK=1 runs 300.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <random>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "edgepoll/storage/outbox.hpp"
#include "store_fixture.hpp"

namespace edgepoll::storage {
namespace {

using testing::config_for;
using testing::TempDir;

using Acked = std::set<std::pair<std::string, std::int64_t>>;

// Runs the writer until it has acknowledged `kill_after` readings (0: kill it
// as soon as it exists, possibly during boot), kills it with SIGKILL and
// returns every acknowledgement that reached the pipe.
std::vector<std::pair<std::string, std::int64_t>> run_and_kill(const std::string& db,
                                                               std::size_t kill_after) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::close(fds[0]);
    ::close(fds[1]);
    ::execl(EDGEPOLL_CRASH_WRITER, EDGEPOLL_CRASH_WRITER, db.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string got;
  std::size_t lines = 0;
  char buf[4096];
  while (lines < kill_after) {
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) break;  // the writer died on its own: the checks below will tell
    for (ssize_t i = 0; i < n; ++i) lines += buf[i] == '\n';
    got.append(buf, static_cast<std::size_t>(n));
  }
  ::kill(pid, SIGKILL);
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) got.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status)) << "the writer exited by itself with " << WEXITSTATUS(status);

  std::vector<std::pair<std::string, std::int64_t>> acks;
  std::istringstream in(got.substr(0, got.rfind('\n') + 1));  // whole lines only
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string device;
    std::int64_t seq = 0;
    if (fields >> device >> seq) acks.emplace_back(device, seq);
    else ADD_FAILURE() << "unexpected line from the writer: " << line;
  }
  return acks;
}

TEST(KillNine, EveryAcknowledgedReadingSurvivesAndSequencesNeverRepeat) {
  const bool soak = std::getenv("EDGEPOLL_SOAK") != nullptr &&
                    std::string(std::getenv("EDGEPOLL_SOAK")) == "1";
  const int kills = soak ? 300 : 20;
  TempDir dir;
  const auto path = dir.file("edgepoll.db");
  std::mt19937 rng(std::random_device{}());
  Acked acked;
  for (int k = 0; k < kills; ++k) {
    // Mostly mid-stream at a random ack count; sometimes right at boot.
    const std::size_t kill_after =
        k % 7 == 3 ? 0 : std::uniform_int_distribution<std::size_t>(1, 3000)(rng);
    for (const auto& a : run_and_kill(path, kill_after)) {
      const bool fresh = acked.insert(a).second;
      ASSERT_TRUE(fresh) << "sequence handed out twice: " << a.first << " " << a.second
                         << " (kill " << k << ")";
    }
    auto db = Database::open(config_for(path));
    ASSERT_TRUE(db.ok()) << "the store does not boot after kill " << k << ": "
                         << db.error().describe();
    Outbox outbox(*db);
    auto rows = outbox.fetch_oldest_batch(std::numeric_limits<std::size_t>::max());
    ASSERT_TRUE(rows.ok()) << rows.error().describe();
    Acked on_disk;
    for (const auto& r : *rows) on_disk.emplace(r.id.device_id, r.id.seq);
    for (const auto& a : acked)
      ASSERT_TRUE(on_disk.contains(a)) << "acknowledged reading lost: " << a.first << " "
                                        << a.second << " after kill " << k;
    // Committed but unacknowledged rows may exist; acknowledged ones are a subset.
    ASSERT_GE(on_disk.size(), acked.size());
  }
  EXPECT_GT(acked.size(), 0u);
  std::cout << "kills: " << kills << ", acknowledged readings checked: " << acked.size() << "\n";
}

}  // namespace
}  // namespace edgepoll::storage
