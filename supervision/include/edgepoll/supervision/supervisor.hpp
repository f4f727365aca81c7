#pragma once
// An OTP supervisor on the edgepoll runtime. Strategies one_for_one,
// one_for_all, rest_for_one and simple_one_for_one; restart types; intensity
// (MaxR in Period seconds, sliding window: the (MaxR+1)th restart inside the
// window makes the supervisor stop its children and exit `shutdown`); failed
// restarts retried through its own mailbox, each consuming intensity; a static
// child failing to start fails the supervisor's own start (failed_to_start_child).
#include <map>
#include <nlohmann/json.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "edgepoll/supervision/child_spec.hpp"
#include "edgepoll/supervision/process.hpp"
#include "edgepoll/supervision/runtime.hpp"

namespace edgepoll::supervision {

struct ChildInfo {
  std::string id;
  Pid pid;  // empty when not running
  ChildType type;
  Restart restart;
  enum class State { running, restarting, stopped } state;
};

struct ChildCounts {
  std::size_t specs = 0, active = 0, supervisors = 0, workers = 0;
};

class Supervisor final : public Behaviour {
 public:
  explicit Supervisor(SupervisorSpec spec);
  ~Supervisor() override;

  InitResult init(Process& self) override;
  void handle(Process& self, Message& message) override;
  std::string_view kind() const override { return "supervisor"; }
  void describe(nlohmann::json& out) const override;

  // Safe from any thread (a consistent view under the supervisor's lock).
  std::vector<ChildInfo> which_children() const;
  ChildCounts count_children() const;
  // Restarts inside the intensity window now (older ones no longer count,
  // even before the next restart prunes them).
  std::size_t restarts_in_window() const;
  // Their ages in whole seconds (of the runtime's clock), oldest first.
  std::vector<std::int64_t> restart_ages() const;

  struct Child;
  struct StopJob;

 private:
  // children
  Child* find_static(const std::string& id) const;
  Child* find_by_pid(const Pid& pid) const;
  Child* find_dynamic_by_id(const std::string& id) const;
  Child& add_child(std::unique_ptr<Child> child);
  void remove_child(Child& child);
  void set_pid(Child& child, const Pid& pid);
  // Starts one child; Ok(empty Pid) when it said ignore.
  Result<Pid> start_one(Process& self, Child& child);
  // Starts `children` in order; returns the first that failed to start, or null.
  Child* start_in_order(Process& self, const std::vector<Child*>& children);

  // exits and restarts
  void on_child_exit(Process& self, Child& child, const ExitReason& reason);
  void restart(Process& self, Child& child);
  bool add_restart(Process& self);
  void restart_group(Process& self, Child& failed, std::vector<Child*> group);
  void try_again_later(Process& self, Child& child);

  // stopping children (asynchronous: waits for their DOWN)
  void stop_children(Process& self, std::vector<Child*> victims, bool parallel,
                     std::function<void(Process&)> then);
  void stop_next(Process& self);
  void on_stop_message(Process& self, Message& message);
  void child_stopped(Process& self, Child& child, const ExitReason& reason);
  void shut_down(Process& self, ExitReason reason);
  std::vector<Child*> running_in_stop_order(std::size_t from_index = 0) const;
  std::size_t index_of(const Child& child) const;

  // API
  void handle_api(Process& self, Message& message);

  void report(Process& self, ReportKind kind, const Child* child, const ExitReason& reason,
              std::string detail = {}) const;
  std::string child_path(Process& self, const std::string& id) const;

  SupervisorSpec spec_;
  std::shared_ptr<const ChildSpec> template_;  // simple_one_for_one
  bool dynamic() const { return spec_.flags.strategy == Strategy::simple_one_for_one; }

  mutable std::mutex view_mutex_;  // guards the containers below for readers on other threads
  std::vector<std::unique_ptr<Child>> static_;                  // start order
  std::unordered_map<Child*, std::unique_ptr<Child>> dynamic_;  // simple_one_for_one
  std::unordered_map<Pid, Child*> by_pid_;
  // Seconds, oldest first; at most MaxR+1 entries. A vector: every device has a
  // supervisor, and an empty std::deque already holds a 512-byte block.
  std::vector<std::int64_t> restarts_;
  const Clock* clock_ = nullptr;       // the runtime's, set by init

  std::unique_ptr<StopJob> stop_job_;
  bool stopping_ = false;
};

// ---- the supervisor API (OTP's start_child & co.) -------------------------------
// Requests are messages to the supervisor; `reply` runs on the supervisor's
// strand, so it must only record or post the result. If the supervisor ends
// before answering, reply gets a "supervision.noproc" error.
using PidReply = std::function<void(Result<Pid>)>;
using StatusReply = std::function<void(Status)>;

// simple_one_for_one: starts a child from the template with this id and args.
void start_child(Runtime& rt, const Pid& sup, ChildStart args, PidReply reply);
// Other strategies: adds and starts a new static child.
void start_child(Runtime& rt, const Pid& sup, ChildSpec spec, PidReply reply);
// Stops a child (by id; simple_one_for_one also by the id it was started with).
void terminate_child(Runtime& rt, const Pid& sup, std::string id, StatusReply reply);
void restart_child(Runtime& rt, const Pid& sup, std::string id, PidReply reply);
void delete_child(Runtime& rt, const Pid& sup, std::string id, StatusReply reply);
// Stops the supervisor: children in reverse start order, then it exits `reason`.
void stop_supervisor(Runtime& rt, const Pid& sup, ExitReason reason);

// Reads from any thread; empty / zero when `sup` is not a live supervisor.
std::vector<ChildInfo> which_children(const Pid& sup);
ChildCounts count_children(const Pid& sup);

// The living process at `path` (e.g. "root/edge/config_manager") in the tree
// under `root`, or an empty Pid. Safe from any thread.
Pid find_in_tree(const Pid& root, const std::string& path);
// Every living process of the tree under `root` (root included), by path.
std::map<std::string, Pid> living_processes(const Pid& root);

// The whole tree under `root` as JSON: every supervisor with strategy,
// intensity, period, restarts in window, counts, and children with id, type,
// restart type, state and path.
nlohmann::json tree_snapshot(const Pid& root);

}  // namespace edgepoll::supervision
