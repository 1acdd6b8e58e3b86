// How long the personal data stored under a legal basis is kept: the catalogue's [retention]
// defaults and each basis's own `retain` and `retain_max`. The disclosure log itself is kept:
// it holds the person only as a keyed hash and content only as a hash.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace infoflyt {

struct Retention {
  // A message's stored bodies: this long after the last of its recipients acknowledged, once
  // every one has; a flag's person and reason: this long after the flag ended or expired.
  int64_t retain = 0;  // Microseconds.
  // A message's stored bodies at most this long after it was posted, acknowledged or not.
  int64_t retain_max = 0;
  std::string retain_text;  // As the catalogue wrote them, for erase records ("30d").
  std::string retain_max_text;

  // Built in, where the catalogue says nothing.
  static Retention Default();
};

// The rule by which the bodies of a message posted at `posted_at` are due for erasure at `now`
// (for its erase record: "retain 30d after every recipient acknowledged"), or nullopt if they
// are not due yet. `acknowledged_at`: when the last recipient acknowledged, if all have.
std::optional<std::string> BodiesDue(const Retention& rule, int64_t posted_at,
                                     std::optional<int64_t> acknowledged_at, int64_t now);

// The same for a flag that ended or expired at `ended_at`.
std::optional<std::string> FlagDue(const Retention& rule, int64_t ended_at, int64_t now);

}  // namespace infoflyt
