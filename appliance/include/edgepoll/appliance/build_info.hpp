#pragma once
// edgepoll_build_info{version="..."} 1 on /metrics: which build a scrape came
// from (the one version number, edgepoll::kVersion).
#include "edgepoll/appliance/metrics.hpp"

namespace edgepoll::appliance {

void register_build_info(Metrics& metrics);

}  // namespace edgepoll::appliance
