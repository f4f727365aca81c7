#pragma once
// A pure model of OTP supervision (no processes, no time but an integer clock):
// given a tree and an exit, it predicts which processes die, which restart and
// which supervisors give up. The property test runs the same steps on the real
// runtime and compares (ferd/sups, seed 002); the chaos suite builds it from a
// running daemon's /tree (assume_stopped, preload_restarts) and predicts each kill.
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "edgepoll/supervision/child_spec.hpp"
#include "edgepoll/supervision/exit_reason.hpp"

namespace edgepoll::supervision::model {

struct Spec {
  std::string id;
  bool supervisor = false;
  Strategy strategy = Strategy::one_for_one;
  Restart restart = Restart::permanent;
  int intensity = 1;
  int period = 5;
  std::vector<Spec> children;
};

struct Node {
  const Spec* spec = nullptr;
  std::string path;
  bool alive = false;
  std::uint64_t incarnation = 0;  // changes whenever the process is (re)started
  std::deque<std::int64_t> restarts;
  std::vector<std::unique_ptr<Node>> children;  // in start order
};

class Tree {
 public:
  explicit Tree(const Spec& root) : root_spec_(root) {
    root_ = std::make_unique<Node>();
    start(*root_, root_spec_, root_spec_.id);
  }

  // The process at `path` exits with `reason` (for a supervisor: kill, or a
  // stop that first ends its children; both end its subtree).
  void exit(const std::string& path, const ExitReason& reason) {
    Node* n = find(*root_, path);
    if (!n || !n->alive) return;
    stop_subtree(*n);
    child_exited(path, reason.kind() == ExitReason::Kind::kill ? ExitReason::killed() : reason);
  }
  void sleep_ms(std::int64_t ms) { now_ms_ += ms; }

  // Seeding the model with a snapshot: a child that is not running (a
  // transient one that ended cleanly) without a supervisor reacting, and the
  // restarts a supervisor counted `ages` seconds before now.
  void assume_stopped(const std::string& path) {
    if (Node* n = find(*root_, path)) stop_subtree(*n);
  }
  void preload_restarts(const std::string& path, const std::vector<std::int64_t>& ages) {
    Node* n = find(*root_, path);
    if (!n) return;
    n->restarts.clear();
    for (const auto age : ages) n->restarts.push_back(seconds() - age);  // ages oldest first, as /tree lists them
  }
  // Restarts of the supervisor at `path` inside its window now (0 when it is not alive).
  std::size_t restarts_in_window(const std::string& path) {
    Node* n = find(*root_, path);
    if (!n || !n->alive || !n->spec->supervisor) return 0;
    std::size_t count = 0;
    for (auto r : n->restarts) count += r >= seconds() - n->spec->period ? 1 : 0;
    return count;
  }

  // path -> incarnation of every living process.
  std::map<std::string, std::uint64_t> living() const {
    std::map<std::string, std::uint64_t> out;
    if (root_->alive) collect(*root_, out);
    return out;
  }

 private:
  std::int64_t seconds() const { return now_ms_ / 1000; }

  void start(Node& n, const Spec& spec, std::string path) {
    n.spec = &spec;
    n.path = std::move(path);
    n.alive = true;
    n.incarnation = ++next_incarnation_;
    n.restarts.clear();
    n.children.clear();
    for (const auto& c : spec.children) {  // a (re)started supervisor begins from its spec
      auto child = std::make_unique<Node>();
      start(*child, c, n.path + "/" + c.id);
      n.children.push_back(std::move(child));
    }
  }
  void restart_node(Node& n) { start(n, *n.spec, n.path); }

  static void stop_subtree(Node& n) {
    n.alive = false;
    for (auto& c : n.children) stop_subtree(*c);
  }

  static Node* find(Node& n, const std::string& path) {
    if (n.path == path) return &n;
    for (auto& c : n.children) {
      if (path.rfind(c->path, 0) == 0) {
        if (Node* f = find(*c, path)) return f;
      }
    }
    return nullptr;
  }
  Node* parent_of(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos) return nullptr;
    return find(*root_, path.substr(0, slash));
  }
  static void collect(const Node& n, std::map<std::string, std::uint64_t>& out) {
    out[n.path] = n.incarnation;
    for (const auto& c : n.children) {
      if (c->alive) collect(*c, out);
    }
  }

  // The child at `path` (already dead with its subtree) ended with `reason`:
  // its supervisor applies OTP's rules.
  void child_exited(const std::string& path, const ExitReason& reason) {
    Node* sup = parent_of(path);
    if (!sup) return;  // the root ended: nothing above it
    Node* child = nullptr;
    std::size_t index = 0;
    for (std::size_t i = 0; i < sup->children.size(); ++i) {
      if (sup->children[i]->path == path) child = sup->children[i].get(), index = i;
    }
    const Restart r = child->spec->restart;
    if (r == Restart::temporary) {
      sup->children.erase(sup->children.begin() + static_cast<long>(index));
      return;
    }
    if (r == Restart::transient && reason.is_clean()) return;
    // add_restart: keep restarts >= now - period, add now, give up above MaxR.
    const auto now = seconds();
    while (!sup->restarts.empty() && sup->restarts.front() < now - sup->spec->period) sup->restarts.pop_front();
    sup->restarts.push_back(now);
    if (sup->restarts.size() > static_cast<std::size_t>(sup->spec->intensity)) {
      stop_subtree(*sup);
      child_exited(sup->path, ExitReason::shutdown());
      return;
    }
    switch (sup->spec->strategy) {
      case Strategy::one_for_one:
      case Strategy::simple_one_for_one:
        restart_node(*child);
        return;
      case Strategy::one_for_all:
      case Strategy::rest_for_one: {
        const std::size_t from = sup->spec->strategy == Strategy::one_for_all ? 0 : index;
        // Stop the others of the group; temporary ones are dropped; then start
        // every remaining child of the group in order.
        std::vector<std::unique_ptr<Node>> kept;
        for (std::size_t i = 0; i < sup->children.size(); ++i) {
          auto& c = sup->children[i];
          if (i >= from && c->alive) {
            stop_subtree(*c);
            if (c->spec->restart == Restart::temporary) continue;
          }
          kept.push_back(std::move(c));
        }
        sup->children = std::move(kept);
        for (std::size_t i = 0; i < sup->children.size(); ++i) {
          auto& c = sup->children[i];
          if (!c->alive && (i >= from || c.get() == child)) restart_node(*c);
        }
        return;
      }
    }
  }

  const Spec& root_spec_;
  std::unique_ptr<Node> root_;
  std::int64_t now_ms_ = 0;
  std::uint64_t next_incarnation_ = 0;
};

}  // namespace edgepoll::supervision::model
