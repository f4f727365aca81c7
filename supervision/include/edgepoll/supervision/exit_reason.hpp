#pragma once
// Why a process ended, with OTP's vocabulary: normal, shutdown, {shutdown, Term},
// killed, noproc and error values carrying a message. `kill` is not a reason a
// process dies with: it is the untrappable signal whose result is `killed`.
#include <cstdint>
#include <string>

namespace edgepoll::supervision {

class ExitReason {
 public:
  enum class Kind : std::uint8_t { normal, shutdown, killed, kill, noproc, error };

  static ExitReason normal() { return ExitReason(Kind::normal); }
  static ExitReason shutdown() { return ExitReason(Kind::shutdown); }
  // {shutdown, Term}: a deliberate stop that carries a term for the logs.
  static ExitReason shutdown(std::string term) { return ExitReason(Kind::shutdown, std::move(term)); }
  static ExitReason killed() { return ExitReason(Kind::killed); }
  // The untrappable signal (exit(Pid, kill)); the target dies with `killed`.
  static ExitReason kill() { return ExitReason(Kind::kill); }
  static ExitReason noproc() { return ExitReason(Kind::noproc); }
  static ExitReason error(std::string message) { return ExitReason(Kind::error, std::move(message)); }

  Kind kind() const { return kind_; }
  const std::string& detail() const { return detail_; }

  bool is_normal() const { return kind_ == Kind::normal; }
  // normal, shutdown and {shutdown, _}: the reasons after which a transient child
  // is not restarted and no crash is reported (OTP's rule).
  bool is_clean() const { return kind_ == Kind::normal || kind_ == Kind::shutdown; }

  // Erlang-like text: normal, shutdown, {shutdown,Term}, killed, kill, noproc, {error,Msg}.
  std::string to_string() const;

  friend bool operator==(const ExitReason&, const ExitReason&) = default;

 private:
  explicit ExitReason(Kind kind, std::string detail = {}) : kind_(kind), detail_(std::move(detail)) {}
  Kind kind_;
  std::string detail_;
};

}  // namespace edgepoll::supervision
