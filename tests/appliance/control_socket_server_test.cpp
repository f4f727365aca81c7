// The control socket's listener on a real Unix socket: its file, its mode, a
// stale file replaced, a live one left alone, answers line by line.
#include "edgepoll/appliance/control_socket_server.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>
#include <future>
#include <nlohmann/json.hpp>

namespace edgepoll::appliance {
namespace {
namespace fs = std::filesystem;

// An event loop on its own thread; `on_loop` runs a call there and waits for it.
class Loop {
 public:
  Loop() : work_(io.get_executor()), thread_([this] { io.run(); }) {}
  ~Loop() {
    work_.reset();
    io.stop();
    thread_.join();
  }
  template <class F>
  auto on_loop(F f) {
    std::promise<decltype(f())> p;
    auto done = p.get_future();
    boost::asio::post(io, [&] { p.set_value(f()); });
    return done.get();
  }
  boost::asio::io_context io;

 private:
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
};

int connect_to(const fs::path& path) {
  const int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, path.c_str());
  if (::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(s);
    return -1;
  }
  timeval tv{10, 0};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return s;
}

std::string read_line(int s) {
  std::string out;
  char ch = 0;
  while (::read(s, &ch, 1) == 1 && ch != '\n') out += ch;
  return out;
}

class ControlSocketServerTest : public ::testing::Test {
 protected:
  ControlSocketServerTest() {
    char tmpl[] = "/tmp/edgepoll-control-XXXXXX";
    dir = mkdtemp(tmpl);
    path = dir / "control.sock";  // here, not as an initializer: dir is set only now
  }
  ~ControlSocketServerTest() override { fs::remove_all(dir); }
  std::unique_ptr<ControlSocketServer> server(std::size_t max = 256) {
    // Echoes each line back as {"line": ...}.
    return std::make_unique<ControlSocketServer>(
        loop.io, [](const std::string& line, ControlAnswer answer) { answer({{"line", line}}); }, max);
  }
  Status start(ControlSocketServer& s) { return loop.on_loop([&] { return s.start(path.string(), "no-such-group-here"); }); }

  fs::path dir;
  fs::path path;
  Loop loop;
};

TEST_F(ControlSocketServerTest, AnswersEachLineAndLeavesNoFileBehind) {
  auto s = server();
  ASSERT_TRUE(start(*s).ok());
  struct stat st{};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  EXPECT_FALSE(fs::exists(path.string() + ".new"));
  const int c = connect_to(path);
  ASSERT_GE(c, 0);
  ASSERT_EQ(::write(c, "one\ntwo\r\n", 9), 9);
  EXPECT_EQ(nlohmann::json::parse(read_line(c))["line"], "one");
  EXPECT_EQ(nlohmann::json::parse(read_line(c))["line"], "two");
  ::close(c);
  loop.on_loop([&] { s->stop(); return 0; });
  EXPECT_FALSE(fs::exists(path));
}

TEST_F(ControlSocketServerTest, ALineLongerThanTheLimitIsRefusedByName) {
  auto s = server(256);
  ASSERT_TRUE(start(*s).ok());
  const int c = connect_to(path);
  const std::string big(300, 'x');
  ASSERT_EQ(::write(c, big.data(), big.size()), static_cast<ssize_t>(big.size()));
  EXPECT_EQ(nlohmann::json::parse(read_line(c))["error"]["code"], "control.too_large");
  ::close(c);
  const int again = connect_to(path);  // the server still serves
  ASSERT_EQ(::write(again, "ok\n", 3), 3);
  EXPECT_EQ(nlohmann::json::parse(read_line(again))["line"], "ok");
  ::close(again);
  loop.on_loop([&] { s->stop(); return 0; });
}

TEST_F(ControlSocketServerTest, AStaleSocketIsReplacedALiveOneIsNot) {
  {  // a daemon that died: its socket file stays, nobody listens
    const int dead = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, path.c_str());
    ASSERT_EQ(::bind(dead, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::close(dead);
  }
  auto first = server();
  ASSERT_TRUE(start(*first).ok());
  auto second = server();
  auto refused = start(*second);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "control.in_use");
  const int c = connect_to(path);  // the first one still owns the path
  ASSERT_EQ(::write(c, "hi\n", 3), 3);
  EXPECT_EQ(nlohmann::json::parse(read_line(c))["line"], "hi");
  ::close(c);
  loop.on_loop([&] { first->stop(); second->stop(); return 0; });
}

TEST_F(ControlSocketServerTest, AMissingDirectoryIsAnErrorThatCanBeRetried) {
  path = dir / "missing" / "control.sock";
  auto s = server();
  auto r = start(*s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "control.socket");
  fs::create_directory(dir / "missing");
  EXPECT_TRUE(start(*s).ok());
  loop.on_loop([&] { s->stop(); return 0; });
}

}  // namespace
}  // namespace edgepoll::appliance
