#include "core/national_id.h"

#include <gtest/gtest.h>

namespace infoflyt {
namespace {

TEST(NationalIdTest, AcceptsFodselsnummerUnderCurrentRule) {
  for (const char* id : {"15076500565", "31129987688", "29020012380", "12060355477"}) {
    const auto check = CheckNationalId(id);
    EXPECT_TRUE(check.valid) << id << ": " << check.reason;
    EXPECT_EQ(check.kind, NationalIdKind::kFodselsnummer) << id;
  }
}

TEST(NationalIdTest, AcceptsTheBriefsExamplesUnderThe2032Rule) {
  for (const char* id : {"02013299997", "30108299920", "30108299939"}) {
    EXPECT_TRUE(CheckNationalId(id).valid) << id;
  }
}

TEST(NationalIdTest, AcceptsFirstCheckDigitOf12And13And14MinusSum) {
  // Same first nine digits as 15076500565; k1 = 12/13 - sum mod 11, k2 recomputed.
  EXPECT_TRUE(CheckNationalId("15076500573").valid);
  EXPECT_TRUE(CheckNationalId("15076500581").valid);
  EXPECT_TRUE(CheckNationalId("12060355493").valid);  // k1 = 14 - sum mod 11.
}

TEST(NationalIdTest, AcceptsDNumbers) {
  const auto old_rule = CheckNationalId("52037745650");
  EXPECT_TRUE(old_rule.valid) << old_rule.reason;
  EXPECT_EQ(old_rule.kind, NationalIdKind::kDNumber);
  const auto new_rule = CheckNationalId("41018512368");  // Needs the 2032 rule.
  EXPECT_TRUE(new_rule.valid) << new_rule.reason;
  EXPECT_EQ(new_rule.kind, NationalIdKind::kDNumber);
}

TEST(NationalIdTest, RejectsWrongCheckDigits) {
  EXPECT_FALSE(CheckNationalId("15076500564").valid);  // k2 off by one.
  EXPECT_FALSE(CheckNationalId("15076500555").valid);  // k1 off by one.
  EXPECT_FALSE(CheckNationalId("02013299998").valid);
  EXPECT_FALSE(CheckNationalId("52037745651").valid);
  // k1 = 15 - sum mod 11 is not allowed under either rule.
  EXPECT_FALSE(CheckNationalId("15076500689").valid);
}

TEST(NationalIdTest, RejectsMalformedInputWithoutEchoingIt) {
  for (const char* id : {"", "1507650056", "150765005651", "1507650056a", "15-76500565"}) {
    const auto check = CheckNationalId(id);
    EXPECT_FALSE(check.valid) << id;
    EXPECT_FALSE(check.reason.empty());
    if (*id) {
      EXPECT_EQ(std::string(check.reason).find(id), std::string::npos);
    }
  }
}

TEST(NationalIdTest, ProblemTextNamesWhyWithoutTheNumber) {
  EXPECT_EQ(NationalIdProblem("15076500565"), "");
  EXPECT_EQ(NationalIdProblem(""), "is required");
  EXPECT_EQ(NationalIdProblem("15076500564"),
            "is not a valid fødselsnummer or D-number: second check digit is wrong");
}

TEST(NationalIdTest, RejectsImpossibleDates) {
  EXPECT_FALSE(CheckNationalId("32017700000").valid);  // Day 32.
  EXPECT_FALSE(CheckNationalId("01137700000").valid);  // Month 13.
  EXPECT_FALSE(CheckNationalId("00017700000").valid);  // Day 0.
  EXPECT_FALSE(CheckNationalId("72017700000").valid);  // D-number day 32.
  EXPECT_EQ(CheckNationalId("31049912345").reason,
            "does not start with a valid date (DDMMYY, D-number day + 40)");  // 31 April.
}

}  // namespace
}  // namespace infoflyt
