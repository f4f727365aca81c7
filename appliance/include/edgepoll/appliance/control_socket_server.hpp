#pragma once
// The control socket's listener: a Unix stream socket on the event loop
// (Asio local sockets), one JSON request per line, one answer line each. A
// plain client of the io_context; the supervised ControlSocket owns one.
//
// The socket is created under a temporary name, given mode 0660 and its group,
// then renamed into place, so that no client ever meets it with looser
// permissions. A request longer than the limit is answered control.too_large
// and its connection closed; an idle connection is closed after 30 s.
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json_fwd.hpp>

#include "edgepoll/supervision/result.hpp"

namespace edgepoll::appliance {

// Called on the event loop for each request line; `answer` may be called later
// (from any thread: it posts to the loop), exactly once.
using ControlAnswer = std::function<void(nlohmann::json)>;
using ControlHandler = std::function<void(const std::string& line, ControlAnswer answer)>;

class ControlSocketServer {
 public:
  ControlSocketServer(boost::asio::io_context& io, ControlHandler handler, std::size_t max_request_bytes);
  ~ControlSocketServer();
  ControlSocketServer(const ControlSocketServer&) = delete;
  ControlSocketServer& operator=(const ControlSocketServer&) = delete;

  // Binds `path` (a stale socket left by a dead daemon is replaced; one a live
  // daemon answers on is not), mode 0660, group `group` when it exists.
  Status start(const std::string& path, const std::string& group);
  // Stops accepting, closes connections and removes the socket file.
  void stop();

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace edgepoll::appliance
