// The oversight statistics' arithmetic (core/statistics.h).
#include "core/statistics.h"

#include <gtest/gtest.h>

#include <vector>

namespace infoflyt {
namespace {

constexpr int64_t kSecond = 1'000'000;
constexpr int64_t kDay = 86'400 * kSecond;

AckSample Acked(int64_t after_seconds, std::optional<int64_t> deadline_seconds = std::nullopt) {
  AckSample s;
  s.disclosed_at = 1000 * kSecond;
  s.acked_at = s.disclosed_at + after_seconds * kSecond;
  if (deadline_seconds) s.deadline = s.disclosed_at + *deadline_seconds * kSecond;
  return s;
}

TEST(StatisticsTest, AckTimesAreSummarisedByNearestRankOverTheAcknowledgedOnly) {
  std::vector<AckSample> samples;
  for (int64_t i = 1; i <= 10; ++i) samples.push_back(Acked(i * 60, 300));  // 1..10 minutes.
  AckSample open;  // Never acknowledged, past a deadline.
  open.disclosed_at = 1000 * kSecond;
  open.deadline = open.disclosed_at + 300 * kSecond;
  samples.push_back(open);
  samples.push_back(AckSample{1000 * kSecond, std::nullopt, std::nullopt});  // No deadline.
  v1::Statistics::Acknowledgements out;
  SummarizeAcks(samples, &out);
  EXPECT_EQ(out.deliveries(), 12u);
  EXPECT_EQ(out.acknowledged(), 10u);
  EXPECT_DOUBLE_EQ(out.median_seconds(), 300);  // Rank ceil(0.5 * 10) = 5: five minutes.
  EXPECT_DOUBLE_EQ(out.p90_seconds(), 540);     // Rank 9.
  EXPECT_EQ(out.with_deadline(), 11u);
  EXPECT_EQ(out.within_deadline(), 5u);  // Acknowledged at or before five minutes.
}

TEST(StatisticsTest, NoAcknowledgementGivesZeroTimesAndOneSampleIsItsOwnPercentiles) {
  v1::Statistics::Acknowledgements none;
  SummarizeAcks({}, &none);
  EXPECT_EQ(none.deliveries(), 0u);
  EXPECT_DOUBLE_EQ(none.median_seconds(), 0);
  std::vector<AckSample> one{Acked(42)};
  v1::Statistics::Acknowledgements single;
  SummarizeAcks(one, &single);
  EXPECT_DOUBLE_EQ(single.median_seconds(), 42);
  EXPECT_DOUBLE_EQ(single.p90_seconds(), 42);
  EXPECT_EQ(single.with_deadline(), 0u);
}

TEST(StatisticsTest, ThePeriodIsThirtyDaysByDefaultAndAtMostAYear) {
  const int64_t now = 400 * kDay;
  int64_t from = 0;
  int64_t until = 0;
  ASSERT_TRUE(StatisticsPeriod({}, now, &from, &until).ok());
  EXPECT_EQ(until, now);
  EXPECT_EQ(from, now - 30 * kDay);

  v1::GetStatisticsRequest reversed;
  reversed.mutable_from()->set_seconds(10);
  reversed.mutable_until()->set_seconds(10);
  Status s = StatisticsPeriod(reversed, now, &from, &until);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("until"), std::string::npos) << s.message();

  v1::GetStatisticsRequest long_period;
  long_period.mutable_from()->set_seconds(0);
  long_period.mutable_until()->set_seconds(int64_t{367} * 86'400);
  s = StatisticsPeriod(long_period, now, &from, &until);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("366 days"), std::string::npos) << s.message();

  v1::GetStatisticsRequest far;  // Out of Timestamp's range: refused, not overflowed.
  far.mutable_from()->set_seconds(int64_t{1} << 60);
  s = StatisticsPeriod(far, now, &from, &until);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("from"), std::string::npos) << s.message();
}

TEST(StatisticsTest, DaysAreNamedInUtc) {
  EXPECT_EQ(DayName(0), "1970-01-01");
  EXPECT_EQ(DayName(20'790), "2026-12-03");
}

}  // namespace
}  // namespace infoflyt
