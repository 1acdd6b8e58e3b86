// "host:port" as the configuration writes listen addresses: "0.0.0.0:50051", "[::1]:9090",
// "localhost:0" (port 0: the kernel picks one).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace infoflyt {

struct HostPort {
  std::string host;  // Without the brackets of an IPv6 literal.
  uint16_t port = 0;
};

// Splits `text` at its last colon. INVALID_ARGUMENT naming `field` unless there is a host and
// a port in [0, 65535].
Status ParseHostPort(std::string_view text, std::string_view field, HostPort* out);

}  // namespace infoflyt
