#pragma once
// A handle to a process. Cheap to copy; stays valid (and comparable) after the
// process died, when sends to it are silently dropped, as in Erlang.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace edgepoll::supervision {

class Process;

class Pid {
 public:
  Pid() = default;
  explicit Pid(std::shared_ptr<Process> process);

  bool valid() const { return process_ != nullptr; }
  explicit operator bool() const { return valid(); }
  std::uint64_t id() const;
  // A hint from any thread; authoritative only on the process's own strand.
  bool alive() const;
  // Position in the supervision tree, e.g. "root/edge/pollers/device:42".
  const std::string& path() const;

  Process* get() const { return process_.get(); }
  const std::shared_ptr<Process>& shared() const { return process_; }

  friend bool operator==(const Pid& a, const Pid& b) { return a.process_ == b.process_; }
  friend bool operator<(const Pid& a, const Pid& b) { return a.id() < b.id(); }

 private:
  std::shared_ptr<Process> process_;
};

}  // namespace edgepoll::supervision

template <>
struct std::hash<edgepoll::supervision::Pid> {
  std::size_t operator()(const edgepoll::supervision::Pid& p) const noexcept {
    return std::hash<const void*>{}(p.get());
  }
};
