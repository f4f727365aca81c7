#pragma once
// The one place that maps a device's protocol to its connection worker (and,
// in protocols.cpp, to its decoder: DeviceDecoder). Adding a protocol: a
// config table, a connection behaviour, a decoder, and a line in each switch.
#include <memory>

#include "edgepoll/pollers/device_config.hpp"
#include "edgepoll/pollers/poller_context.hpp"
#include "edgepoll/supervision/child_spec.hpp"

namespace edgepoll::pollers::detail {

supervision::ChildFactory connection_factory(std::shared_ptr<const DeviceConfig> config,
                                             PollerContext context);

}  // namespace edgepoll::pollers::detail
