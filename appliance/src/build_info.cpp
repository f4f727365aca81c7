#include "edgepoll/appliance/build_info.hpp"

#include <prometheus/gauge.h>

#include "edgepoll/version.hpp"

namespace edgepoll::appliance {

void register_build_info(Metrics& metrics) {
  prometheus::BuildGauge()
      .Name("edgepoll_build_info")
      .Help("Always 1; the version label says which edgepoll build is running")
      .Register(metrics.registry())
      .Add({{"version", kVersion}})
      .Set(1);
}

}  // namespace edgepoll::appliance
