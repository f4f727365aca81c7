#pragma once
// Messages are type-erased values; a behaviour matches the types it expects and
// leaves the rest to the catch-all, which logs them safely and never crashes
// (seed 000: a stray message nobody expected took a whole subsystem down).
#include <any>
#include <cstdint>
#include <functional>
#include <string>

#include "edgepoll/supervision/exit_reason.hpp"
#include "edgepoll/supervision/pid.hpp"

namespace edgepoll::supervision {

using Message = std::any;
using MonitorRef = std::uint64_t;

// Delivered as a message to a process that traps exits (OTP's {'EXIT', From, Reason}).
struct ExitSignal {
  Pid from;
  ExitReason reason;
};

// System messages (OTP's sys module), answered by the process itself and never
// seen by its behaviour. SysPing's `pong` runs on the process's strand once the
// mailbox reaches it: the liveness check measures that round trip. A process
// suspended by SysSuspend holds every other message (pings too) until SysResume;
// exit signals still reach it. Suspending is how a test stalls one mailbox.
struct SysPing {
  std::function<void()> pong;
};
struct SysSuspend {};
struct SysResume {};
// Makes the process end itself with `reason`, as if its own code had exited so
// (a crash is an error reason): the chaos hook's way to fail one process. Unlike
// an exit signal it is never trapped, and a suspended process takes it too.
struct SysExit {
  ExitReason reason;
};

// Delivered to a monitoring process when the watched one ends ({'DOWN', Ref, ...}).
struct Down {
  MonitorRef ref = 0;
  Pid pid;
  ExitReason reason;
};

// A printable, bounded, never-throwing description of any message: its type and,
// for text, an escaped excerpt. Used by the catch-all and by crash reports.
std::string describe_message(const Message& message);

}  // namespace edgepoll::supervision
