// tools/kafka-sandbox as a child process, driven like the demo and the system
// tests drive it: read the bootstrap line, talk Kafka to it over TCP, send
// fault drills on stdin, stop it with a signal.
#include <csignal>
#include <cstdio>
#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "edgepoll/kafka/producer.hpp"
#include "kafka_test_support.hpp"

namespace edgepoll::kafka {
namespace {

using namespace std::chrono_literals;

class Sandbox {
 public:
  explicit Sandbox(std::vector<std::string> args) {
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) throw std::runtime_error("pipe");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      close(in[1]);
      close(out[0]);
      std::vector<char*> argv{const_cast<char*>(KAFKA_SANDBOX_EXE)};
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(KAFKA_SANDBOX_EXE, argv.data());
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    to_ = fdopen(in[1], "w");
    from_ = fdopen(out[0], "r");
  }
  ~Sandbox() {
    if (to_ != nullptr) fclose(to_);
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    fclose(from_);
  }
  std::string line() {
    char buf[4096];
    if (fgets(buf, sizeof buf, from_) == nullptr) return {};
    std::string s(buf);
    if (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
  }
  std::string command(const std::string& c) {
    fputs((c + "\n").c_str(), to_);
    fflush(to_);
    return line();
  }
  void close_stdin() {
    fclose(to_);
    to_ = nullptr;
  }
  int wait_exit() {
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  FILE* to_ = nullptr;
  FILE* from_ = nullptr;
};

std::string bootstrap_of(Sandbox& s) {
  const std::string first = s.line();
  EXPECT_EQ(first.rfind("bootstrap=", 0), 0u) << first;
  return first.substr(std::string("bootstrap=").size());
}

TEST(KafkaSandbox, ServesKafkaAndObeysFaultDrills) {
  const auto topic = testing::fresh_topic("sandbox");
  Sandbox sandbox({"--brokers", "2", "--topic", topic + ":2", "--stdin-commands"});
  const auto bootstrap = bootstrap_of(sandbox);
  EXPECT_EQ(std::count(bootstrap.begin(), bootstrap.end(), ','), 1);  // two brokers

  auto config = testing::test_config(bootstrap);
  // Every broker down for longer than this -> a retriable delivery report: the
  // record's failure is seen, not inferred from a quiet moment.
  config.message_timeout = 1500ms;
  auto p = Producer::create(config);
  ASSERT_TRUE(p) << p.error().describe();
  auto& producer = **p;
  int delivered = 0, failed = 0;
  producer.on_delivery([&](const DeliveryReport& r) {
    if (!r.error) ++delivered;
    else if (r.error->retryable) ++failed;
  });
  auto poll = [&] { producer.poll(); return 1ms; };
  ASSERT_TRUE(producer.produce({topic, "dev-1", "before", 0, 1, {}}));
  ASSERT_TRUE(testing::run_until([&] { return delivered == 1; }, poll));

  EXPECT_EQ(sandbox.command("down all"), "ok down all");
  ASSERT_TRUE(producer.produce({topic, "dev-1", "lost", 0, 2, {}}));
  // Nothing gets through while every broker is down: the record times out.
  ASSERT_TRUE(testing::run_until([&] { return failed == 1; }, poll));
  EXPECT_EQ(delivered, 1);
  EXPECT_EQ(sandbox.command("up all"), "ok up all");
  ASSERT_TRUE(producer.produce({topic, "dev-1", "during", 0, 3, {}}));
  ASSERT_TRUE(testing::run_until([&] { return delivered == 2; }, poll));

  EXPECT_EQ(sandbox.command("error produce NOT_LEADER_FOR_PARTITION 2"),
            "ok error produce NOT_LEADER_FOR_PARTITION 2");
  EXPECT_EQ(sandbox.command("down 7").rfind("error: ", 0), 0u);
  EXPECT_EQ(sandbox.command("frobnicate").rfind("error: ", 0), 0u);

  auto read = testing::read_topic(bootstrap, topic, 2);
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read[0].payload, "before");
  EXPECT_EQ(read[1].payload, "during");
  EXPECT_EQ(read[1].key, "dev-1");

  kill(sandbox.pid(), SIGTERM);
  const int status = sandbox.wait_exit();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST(KafkaSandbox, EndOfStdinStopsItOnlyWhenAsked) {
  {
    Sandbox sandbox({"--stdin-commands", "--exit-on-eof"});
    bootstrap_of(sandbox);
    sandbox.close_stdin();
    const int status = sandbox.wait_exit();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }
  // The demo runs it in the background with stdin from /dev/null: it keeps
  // serving after EOF until it is signalled.
  Sandbox sandbox({"--stdin-commands"});
  const auto bootstrap = bootstrap_of(sandbox);
  sandbox.close_stdin();
  const auto topic = testing::fresh_topic("after-eof");
  auto p = Producer::create(testing::test_config(bootstrap));
  ASSERT_TRUE(p);
  bool delivered = false;
  (*p)->on_delivery([&](const DeliveryReport& r) { delivered = !r.error; });
  ASSERT_TRUE((*p)->produce({topic, "k", "v", 0, 1, {}}));  // auto-created topic
  ASSERT_TRUE(testing::run_until([&] { return delivered; }, [&] { (*p)->poll(); return 1ms; }));
  EXPECT_EQ(waitpid(sandbox.pid(), nullptr, WNOHANG), 0);  // still running
}

}  // namespace
}  // namespace edgepoll::kafka
