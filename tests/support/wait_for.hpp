#pragma once
// Waiting in tests, always with a deadline: wait_for polls a condition,
// run_until runs an event loop until a condition holds, and await_callback
// waits for the value an asynchronous operation hands to its callback. None
// sleeps for a fixed time and hopes.
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>

namespace edgepoll::testing {

// Polls `condition` every `every` until it holds (true) or `timeout` passes (false).
template <class Condition>
bool wait_for(Condition condition, std::chrono::milliseconds timeout = std::chrono::seconds(10),
              std::chrono::milliseconds every = std::chrono::milliseconds(1)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(every);
  }
  return true;
}

// Runs `io` (an Asio io_context, on this thread) one handler at a time until
// `condition` holds (true) or `timeout` passes (false).
template <class IoContext, class Condition>
bool run_until(IoContext& io, Condition condition,
               std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    io.run_one_for(std::chrono::milliseconds(20));
    if (io.stopped()) io.restart();
  }
  return true;
}

// Calls `start(callback)` and returns what the callback was given; throws when
// it was not called within `timeout` (the operation is lost: a test failure).
template <class T, class Start>
T await_callback(Start start, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  auto promise = std::make_shared<std::promise<T>>();
  auto answer = promise->get_future();
  start([promise](T value) { promise->set_value(std::move(value)); });
  if (answer.wait_for(timeout) != std::future_status::ready)
    throw std::runtime_error("no answer within " + std::to_string(timeout.count()) + " ms");
  return answer.get();
}

}  // namespace edgepoll::testing
