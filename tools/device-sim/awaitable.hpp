#pragma once
// The completion token device-sim's coroutines share: co_await gives
// (error_code, value...) back as a tuple instead of throwing.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace edgepoll::devicesim {
inline constexpr auto use_tuple = boost::asio::as_tuple(boost::asio::use_awaitable);
}  // namespace edgepoll::devicesim
