#pragma once
// The project's error vocabulary. Failures of the outside world (device, network,
// broker, disk) are values of type Error, never exceptions across handlers: the
// caller decides, logs once and counts. Broken invariants throw instead, so that
// the owning process crashes and its supervisor acts.
#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace edgepoll {

struct Error {
  std::string code;        // stable and machine readable, e.g. "storage.disk_full"
  std::string message;     // what happened, naming the file / field / device
  bool retryable = false;  // would the same call succeed later on its own?
  std::string hint;        // what an operator can do about it ("" when nothing)

  std::string describe() const {
    std::string s = code + ": " + message;
    if (!hint.empty()) s += " (hint: " + hint + ")";
    return s;
  }
};

inline Error make_error(std::string code, std::string message, bool retryable = false,
                        std::string hint = {}) {
  return Error{std::move(code), std::move(message), retryable, std::move(hint)};
}

// Result<T>: a T or an Error (std::expected is C++23; this is its small subset).
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { assert(!ok()); return std::get<1>(v_); }
  Error&& take_error() { assert(!ok()); return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

struct Ok {};
using Status = Result<Ok>;
inline Status ok_status() { return Ok{}; }

}  // namespace edgepoll
