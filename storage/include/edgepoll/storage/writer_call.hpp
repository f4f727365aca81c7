#pragma once
// One BatchWriter operation called from a thread that may block (a Kafka loop,
// a benchmark; never a handler on the runtime) and waited for. The writer
// answers every operation, also when it stops, but a wedged disk can hold it
// in a system call: the wait is bounded, and running out of time is an error
// (storage.timeout, retryable) that the caller's supervisor acts on.
#include <chrono>
#include <future>
#include <memory>
#include <string>

#include "edgepoll/supervision/result.hpp"

namespace edgepoll::storage {

inline constexpr std::chrono::seconds kWriterCallTimeout{30};

// `start(done)` issues the operation with `done` as its callback.
template <class T, class Start>
Result<T> call_writer(Start start, std::chrono::milliseconds timeout = kWriterCallTimeout) {
  auto promise = std::make_shared<std::promise<Result<T>>>();
  auto answer = promise->get_future();
  start([promise](Result<T> r) { promise->set_value(std::move(r)); });
  if (answer.wait_for(timeout) != std::future_status::ready)
    return make_error("storage.timeout", "the storage writer did not answer in " + std::to_string(timeout.count()) + " ms",
                      true, "a wedged writer stops its heartbeat; the watchdog restarts the daemon");
  return answer.get();
}

}  // namespace edgepoll::storage
