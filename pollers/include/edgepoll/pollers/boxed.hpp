#pragma once
// An optional value kept on the heap: what std::optional<T> offers, in the
// size of a pointer. DeviceConfig holds its Modbus and SNMP tables this way, so
// that each of 10,000 HTTP devices does not carry the ~350 bytes of protocol
// tables it never has. Copies are deep; equality compares the values.
#include <memory>
#include <utility>

namespace edgepoll::pollers {

template <class T>
class Boxed {
 public:
  Boxed() = default;
  // Implicit, as std::optional's: `config.modbus = parsed;`
  Boxed(T value) : value_(std::make_unique<T>(std::move(value))) {}
  Boxed(const Boxed& other) : value_(other.value_ ? std::make_unique<T>(*other.value_) : nullptr) {}
  Boxed(Boxed&&) noexcept = default;
  Boxed& operator=(const Boxed& other) {
    if (this != &other) value_ = other.value_ ? std::make_unique<T>(*other.value_) : nullptr;
    return *this;
  }
  Boxed& operator=(Boxed&&) noexcept = default;
  ~Boxed() = default;

  bool has_value() const { return value_ != nullptr; }
  explicit operator bool() const { return has_value(); }
  const T& operator*() const { return *value_; }
  T& operator*() { return *value_; }
  const T* operator->() const { return value_.get(); }
  T* operator->() { return value_.get(); }
  void reset() { value_.reset(); }

  friend bool operator==(const Boxed& a, const Boxed& b) {
    return a.has_value() == b.has_value() && (!a.has_value() || *a == *b);
  }

 private:
  std::unique_ptr<T> value_;
};

}  // namespace edgepoll::pollers
