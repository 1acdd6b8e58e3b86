#include "core/statistics.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <tuple>
#include <vector>

#include "core/time_util.h"

namespace infoflyt {
namespace {

constexpr int64_t kMicrosPerDay = int64_t{86'400} * 1'000'000;
constexpr int64_t kDefaultDays = 30;
constexpr int64_t kMaxDays = 366;

// The sample at rank ceil(p * n) of the sorted `values` (nearest rank; n > 0).
double NearestRank(const std::vector<double>& sorted, double p) {
  const auto rank = static_cast<size_t>(std::ceil(p * static_cast<double>(sorted.size())));
  return sorted[std::max<size_t>(rank, 1) - 1];
}

}  // namespace

Status StatisticsPeriod(const v1::GetStatisticsRequest& request, int64_t now, int64_t* from,
                        int64_t* until) {
  using google::protobuf::util::TimeUtil;
  for (auto [has, t, name] : {std::tuple{request.has_from(), &request.from(), "from"},
                              std::tuple{request.has_until(), &request.until(), "until"}}) {
    if (has && (t->seconds() < TimeUtil::kTimestampMinSeconds ||
                t->seconds() > TimeUtil::kTimestampMaxSeconds || t->nanos() < 0 ||
                t->nanos() > 999'999'999)) {
      return Status::InvalidArgument({{name, "is not a valid time (years 1 to 9999)"}});
    }
  }
  *until = request.has_until() ? ToMicros(request.until()) : now;
  *from = request.has_from() ? ToMicros(request.from()) : *until - kDefaultDays * kMicrosPerDay;
  if (*from >= *until) return Status::InvalidArgument({{"until", "must be after from"}});
  if (*until - *from > kMaxDays * kMicrosPerDay) {
    return Status::InvalidArgument({{"from", "the period may be at most 366 days"}});
  }
  return Status::Ok();
}

std::string DayName(int64_t day) {
  const auto seconds = static_cast<std::time_t>(day * 86'400);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

void SummarizeAcks(std::span<const AckSample> samples, v1::Statistics::Acknowledgements* out) {
  std::vector<double> seconds;
  uint64_t with_deadline = 0;
  uint64_t within_deadline = 0;
  for (const AckSample& s : samples) {
    if (s.acked_at) seconds.push_back(static_cast<double>(*s.acked_at - s.disclosed_at) / 1e6);
    if (s.deadline) {
      ++with_deadline;
      if (s.acked_at && *s.acked_at <= *s.deadline) ++within_deadline;
    }
  }
  std::sort(seconds.begin(), seconds.end());
  out->set_deliveries(samples.size());
  out->set_acknowledged(seconds.size());
  out->set_with_deadline(with_deadline);
  out->set_within_deadline(within_deadline);
  out->set_median_seconds(seconds.empty() ? 0 : NearestRank(seconds, 0.5));
  out->set_p90_seconds(seconds.empty() ? 0 : NearestRank(seconds, 0.9));
}

}  // namespace infoflyt
