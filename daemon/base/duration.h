// Durations as operators write them in the configuration and the catalogues.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/status.h"

namespace infoflyt {

// Parses a duration such as "90s", "15m", "24h", "2d" or "1h30m" into microseconds;
// INVALID_ARGUMENT, quoting the text, otherwise.
Status ParseDuration(std::string_view text, int64_t* micros);

}  // namespace infoflyt
