#include "core/retention.h"

#include "base/clock.h"

namespace infoflyt {

Retention Retention::Default() {
  return {.retain = 30 * kMicrosPerDay,
          .retain_max = 180 * kMicrosPerDay,
          .retain_text = "30d",
          .retain_max_text = "180d"};
}

std::optional<std::string> BodiesDue(const Retention& rule, int64_t posted_at,
                                     std::optional<int64_t> acknowledged_at, int64_t now) {
  if (acknowledged_at && *acknowledged_at + rule.retain <= now) {
    return "retain " + rule.retain_text + " after every recipient acknowledged";
  }
  if (posted_at + rule.retain_max <= now) {
    return "retain_max " + rule.retain_max_text + " after posting";
  }
  return std::nullopt;
}

std::optional<std::string> FlagDue(const Retention& rule, int64_t ended_at, int64_t now) {
  if (ended_at + rule.retain > now) return std::nullopt;
  return "retain " + rule.retain_text + " after the flag ended";
}

}  // namespace infoflyt
