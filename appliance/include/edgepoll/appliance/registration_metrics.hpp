#pragma once
// The registration worker's counters on /metrics:
//   edgepoll_registration_changes_total{state="registered"|"deregistered"|"unreachable"}
//   edgepoll_registration_etcd_errors_total
#include <memory>

#include "edgepoll/appliance/metrics.hpp"
#include "edgepoll/appliance/registration.hpp"

namespace edgepoll::appliance {

void register_registration_metrics(Metrics& metrics,
                                   std::shared_ptr<const RegistrationCounters> counters);

}  // namespace edgepoll::appliance
