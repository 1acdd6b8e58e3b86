// The oversight statistics' arithmetic (Audit.GetStatistics): the period asked for, and how a
// municipality's acknowledgement times are summarised. No I/O; the store counts the rows.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "base/status.h"
#include "infoflyt/v1/audit.pb.h"

namespace infoflyt {

// One delivery to a municipality: when it was disclosed, acknowledged and due (microseconds).
struct AckSample {
  int64_t disclosed_at = 0;
  std::optional<int64_t> acked_at;
  std::optional<int64_t> deadline;
};

// The period of `request` as [from, until) in microseconds: the 30 days up to `now` unless
// given. INVALID_ARGUMENT naming the field for an empty or reversed period or one over 366 days.
Status StatisticsPeriod(const v1::GetStatisticsRequest& request, int64_t now, int64_t* from,
                        int64_t* until);

// "2026-12-03" for a day counted from the Unix epoch (UTC).
std::string DayName(int64_t day);

// Counts, median and 90th percentile (nearest rank) of the seconds from disclosure to
// acknowledgement over the acknowledged samples, and how many with a deadline met it. Sets
// every field of `out` but `municipality`.
void SummarizeAcks(std::span<const AckSample> samples, v1::Statistics::Acknowledgements* out);

}  // namespace infoflyt
