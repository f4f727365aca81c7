#pragma once
// Restarting part of the tree with a new config: a running child's spec holds
// the config it was built from, so restarting it is not enough. Its spec is
// replaced: the children are stopped (terminate_child, reverse order) and
// deleted (delete_child), then fresh specs are started (start_child) in order.
// start_child appends, so callers replace a supervisor's tail to keep the
// start (and stop) order the tree defines.
#include <functional>
#include <string>
#include <vector>

#include "edgepoll/supervision/child_spec.hpp"
#include "edgepoll/supervision/runtime.hpp"

namespace edgepoll::appliance {

// `old_ids` that are not there are skipped (a section that was absent); `done`
// gets the first start error, on the supervisor's strand.
void replace_children(supervision::Runtime& runtime, const supervision::Pid& sup,
                      std::vector<std::string> old_ids, std::vector<supervision::ChildSpec> fresh,
                      std::function<void(Status)> done);

}  // namespace edgepoll::appliance
