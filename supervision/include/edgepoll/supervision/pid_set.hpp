#pragma once
// The set of a process's links: a few entries for a worker, up to hundreds of
// thousands for a simple_one_for_one supervisor, so it is a flat vector while
// small and a hash set once large.
#include <algorithm>
#include <memory>
#include <unordered_set>
#include <vector>

#include "edgepoll/supervision/pid.hpp"

namespace edgepoll::supervision {

class PidSet {
 public:
  bool insert(const Pid& p) {
    if (large_) return large_->insert(p).second;
    if (std::find(small_.begin(), small_.end(), p) != small_.end()) return false;
    small_.push_back(p);
    if (small_.size() > kSmallLimit) {
      large_ = std::make_unique<std::unordered_set<Pid>>(small_.begin(), small_.end());
      small_.clear();
      small_.shrink_to_fit();
    }
    return true;
  }
  bool erase(const Pid& p) {
    if (large_) return large_->erase(p) > 0;
    auto it = std::find(small_.begin(), small_.end(), p);
    if (it == small_.end()) return false;
    *it = std::move(small_.back());
    small_.pop_back();
    return true;
  }
  bool contains(const Pid& p) const {
    if (large_) return large_->count(p) > 0;
    return std::find(small_.begin(), small_.end(), p) != small_.end();
  }
  // Moves every member out (the set is empty afterwards).
  std::vector<Pid> take_all() {
    std::vector<Pid> out;
    if (large_) {
      out.assign(large_->begin(), large_->end());
      large_.reset();
    } else {
      out.swap(small_);
    }
    return out;
  }

 private:
  static constexpr std::size_t kSmallLimit = 32;
  std::vector<Pid> small_;
  std::unique_ptr<std::unordered_set<Pid>> large_;
};

}  // namespace edgepoll::supervision
