#pragma once
// HTTP/1.1 front of the simulator (Boost.Beast on Asio coroutines), keep-alive.
// Whatever a client does (garbage requests, early close, huge headers), only
// that connection ends: every error is caught at the connection boundary.
#include <chrono>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "simulator.hpp"

namespace edgepoll::devicesim {

struct ServerOptions {
  std::chrono::seconds idle_timeout{120};  // a keep-alive connection with no request
  std::chrono::seconds hang_limit{3600};   // "hang" answers never, but not forever
};

// Starts accepting on `endpoint`; returns the bound endpoint (port 0 -> real port).
boost::asio::ip::tcp::endpoint listen(boost::asio::io_context& io,
                                      boost::asio::ip::tcp::endpoint endpoint,
                                      Simulator& simulator, ServerOptions options);

}  // namespace edgepoll::devicesim
