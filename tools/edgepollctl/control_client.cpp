#include "control_client.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace edgepoll::ctl {

namespace {
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

Error socket_error(const std::string& path, const std::string& what, int err) {
  std::string hint = "is edgepolld running? --socket PATH or the config's [control] socket names it";
  if (err == EACCES || err == EPERM) hint = "the socket is mode 0660: run as its owner or as a member of its group (edgepoll)";
  return make_error("ctl.control_unreachable", path + ": " + what + ": " + std::strerror(err), err == ECONNREFUSED,
                    hint);
}
}  // namespace

Result<nlohmann::json> control_request(const std::string& path, const nlohmann::json& request,
                                       std::chrono::seconds timeout) {
  sockaddr_un addr{};
  if (path.size() >= sizeof(addr.sun_path)) return make_error("ctl.usage", path + ": socket path too long");
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  Fd s{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (s.fd < 0) return socket_error(path, "socket", errno);
  timeval tv{static_cast<time_t>(timeout.count()), 0};
  ::setsockopt(s.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(s.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(s.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return socket_error(path, "connect", errno);
  const std::string line = request.dump() + "\n";
  for (std::size_t sent = 0; sent < line.size();) {
    const auto n = ::send(s.fd, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n < 0) return socket_error(path, "send", errno);
    sent += static_cast<std::size_t>(n);
  }
  std::string answer;
  char buf[4096];
  while (answer.find('\n') == std::string::npos) {
    const auto n = ::recv(s.fd, buf, sizeof buf, 0);
    if (n < 0) return socket_error(path, errno == EAGAIN ? "no answer in time" : "recv", errno);
    if (n == 0) break;
    answer.append(buf, static_cast<std::size_t>(n));
  }
  auto j = nlohmann::json::parse(answer.substr(0, answer.find('\n')), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return make_error("ctl.bad_answer", path + ": the daemon's answer is not a JSON object: " + answer.substr(0, 200));
  }
  return j;
}

}  // namespace edgepoll::ctl
