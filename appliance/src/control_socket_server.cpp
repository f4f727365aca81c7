#include "edgepoll/appliance/control_socket_server.hpp"

#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "edgepoll/appliance/control_request.hpp"

namespace edgepoll::appliance {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;

namespace {
constexpr auto kIdleTimeout = std::chrono::seconds(30);

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(local::socket socket, std::shared_ptr<ControlHandler> handler, std::size_t max_bytes)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), handler_(std::move(handler)),
        buffer_(max_bytes + 1), max_bytes_(max_bytes) {}
  void start() { read(); }
  void close() {
    boost::system::error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
  }

 private:
  void read() {
    timer_.expires_after(kIdleTimeout);
    timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      if (auto self = weak.lock(); self && !ec) self->close();
    });
    asio::async_read_until(socket_, buffer_, '\n', [self = shared_from_this()](const boost::system::error_code& ec,
                                                                               std::size_t n) { self->on_line(ec, n); });
  }
  void on_line(const boost::system::error_code& ec, std::size_t n) {
    if (ec == asio::error::not_found) {  // the buffer filled up without a newline
      return finish(control_error(make_error(
                        "control.too_large", "a request line is longer than " + std::to_string(max_bytes_) + " bytes",
                        false, "[control] max_request_bytes sets the limit")),
                    /*keep_open=*/false);
    }
    if (ec) return close();  // closed by the client or timed out: nothing to answer
    std::string line(asio::buffers_begin(buffer_.data()), asio::buffers_begin(buffer_.data()) + n - 1);
    buffer_.consume(n);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    timer_.cancel();
    auto executor = socket_.get_executor();
    (*handler_)(line, [self = shared_from_this(), executor](nlohmann::json answer) {
      asio::post(executor, [self, answer = std::move(answer)]() mutable { self->finish(std::move(answer), true); });
    });
  }
  void finish(nlohmann::json answer, bool keep_open) {
    auto out = std::make_shared<std::string>(answer.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    asio::async_write(socket_, asio::buffer(*out), [self = shared_from_this(), out, keep_open](
                                                       const boost::system::error_code& ec, std::size_t) {
      if (ec || !keep_open) return self->close();
      self->read();
    });
  }

  local::socket socket_;
  asio::steady_timer timer_;
  std::shared_ptr<ControlHandler> handler_;
  asio::streambuf buffer_;
  std::size_t max_bytes_;
};

// true when a daemon answers on `path` (then it must not be replaced).
bool someone_listens(asio::io_context& io, const std::string& path) {
  local::socket probe(io);
  boost::system::error_code ec;
  probe.connect(local::endpoint(path), ec);
  return !ec;
}

Error os_error(const std::string& what, const std::string& path, int err) {
  return make_error("control.socket", what + " " + path + ": " + std::strerror(err), false,
                    "check that the runtime directory exists and belongs to the edgepoll user (systemd's "
                    "RuntimeDirectory=edgepoll does it), or set [control] socket");
}

}  // namespace

struct ControlSocketServer::State {
  State(asio::io_context& io, ControlHandler h, std::size_t max) : io(io), acceptor(io),
      handler(std::make_shared<ControlHandler>(std::move(h))), max_bytes(max) {}
  void accept() {
    acceptor.async_accept([this, alive = alive](const boost::system::error_code& ec, local::socket socket) {
      if (!*alive || ec == asio::error::operation_aborted) return;
      if (!ec) {
        auto c = std::make_shared<Connection>(std::move(socket), handler, max_bytes);
        connections.insert(c);
        c->start();
        std::erase_if(connections, [](const std::weak_ptr<Connection>& w) { return w.expired(); });
      }
      accept();
    });
  }
  asio::io_context& io;
  local::acceptor acceptor;
  std::shared_ptr<ControlHandler> handler;
  std::size_t max_bytes;
  std::string path;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
  std::set<std::weak_ptr<Connection>, std::owner_less<std::weak_ptr<Connection>>> connections;
};

ControlSocketServer::ControlSocketServer(asio::io_context& io, ControlHandler handler, std::size_t max_request_bytes)
    : state_(std::make_shared<State>(io, std::move(handler), max_request_bytes)) {}

ControlSocketServer::~ControlSocketServer() { stop(); }

Status ControlSocketServer::start(const std::string& path, const std::string& group) {
  namespace fs = std::filesystem;
  std::error_code fec;
  if (fs::is_socket(path, fec)) {
    if (someone_listens(state_->io, path)) {
      return make_error("control.in_use", path + ": another edgepolld answers on this control socket", false,
                        "stop it, or give this one its own [control] socket");
    }
    fs::remove(path, fec);  // left behind by a daemon that died
  } else if (fs::exists(path, fec)) {
    return make_error("control.socket", path + " exists and is not a socket", false, "remove it or set [control] socket");
  }
  const std::string staging = path + ".new";
  ::unlink(staging.c_str());
  // Any failure leaves nothing behind, so that start() can be tried again.
  auto fail = [&](Error e) -> Status {
    boost::system::error_code ignored;
    state_->acceptor.close(ignored);
    ::unlink(staging.c_str());
    return e;
  };
  boost::system::error_code ec;
  state_->acceptor.open(local(), ec);
  if (!ec) state_->acceptor.bind(local::endpoint(staging), ec);
  if (ec) return fail(os_error("cannot create the control socket", staging, ec.value()));
  gid_t gid = static_cast<gid_t>(-1);
  if (const struct group* g = ::getgrnam(group.c_str())) gid = g->gr_gid;
  if ((gid != static_cast<gid_t>(-1) && ::chown(staging.c_str(), static_cast<uid_t>(-1), gid) != 0) ||
      ::chmod(staging.c_str(), 0660) != 0) {
    return fail(os_error("cannot set the owner and mode of", staging, errno));
  }
  state_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail(os_error("cannot listen on", staging, ec.value()));
  if (std::rename(staging.c_str(), path.c_str()) != 0) {
    return fail(os_error("cannot move the control socket into place at", path, errno));
  }
  state_->path = path;
  state_->accept();
  if (gid == static_cast<gid_t>(-1)) {
    spdlog::info("control event=listening socket={} mode=0660 (no group '{}' on this system: owner only)", path, group);
  } else {
    spdlog::info("control event=listening socket={} mode=0660 group={}", path, group);
  }
  return ok_status();
}

void ControlSocketServer::stop() {
  if (!state_ || !*state_->alive) return;
  *state_->alive = false;
  boost::system::error_code ec;
  state_->acceptor.close(ec);
  for (const auto& w : state_->connections)
    if (auto c = w.lock()) c->close();
  state_->connections.clear();
  if (!state_->path.empty()) ::unlink(state_->path.c_str());
}

}  // namespace edgepoll::appliance
