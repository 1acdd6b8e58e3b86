// The caps on connections to the gRPC port, as an nftables ruleset for the kernel to enforce.
// gRPC 1.51 cannot cap the connections a server accepts (no channel argument bounds them), and
// its listener never recovers once accept has failed for want of descriptors (grpc/grpc#16058):
// so the excess must be refused before it becomes a descriptor, and the daemon's configuration
// says how many (server.max_connections, server.max_connections_per_source).
#pragma once

#include <string>

#include "base/status.h"
#include "ops/config.h"

namespace infoflyt {

// The ruleset for `nft -f -`: table inet infoflyt, replaced whole each time it is loaded. New
// TCP connections to the port of `config.listen` beyond max_connections_per_source from one
// IPv4 address (or one IPv6 /64), or beyond max_connections in all, get a TCP reset and are
// counted in the table's named counters. Connections from the host's own addresses are not
// capped, so that the daemon's check of its own port keeps working while others are refused.
// InvalidArgument if `config.listen` has no port.
Status NftConnectionLimits(const Config& config, std::string* ruleset);

}  // namespace infoflyt
