// Wall-clock time as microseconds since the Unix epoch, the one time unit stored everywhere.
#pragma once

#include <cstdint>
#include <string>

namespace infoflyt {

int64_t NowMicros();
// "2026-11-22T10:00:00.123456Z".
std::string FormatRfc3339(int64_t micros);

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;

}  // namespace infoflyt
