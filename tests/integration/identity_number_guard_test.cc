// The identity-number guard itself: what it must find and what it must let pass.
#include "integration/identity_number_guard.h"

#include <gtest/gtest.h>

namespace infoflyt::testing {
namespace {

TEST(IdentityNumberGuardTest, FindsATestsNumberAnywhereWithoutPrintingIt) {
  const auto found = FindIdentityNumbers("msg=\"subject=15076500565abc\"", "the log");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_NE(found[0].find("the log at offset 13"), std::string::npos) << found[0];
  EXPECT_EQ(found[0].find("15076500565"), std::string::npos) << found[0];
}

TEST(IdentityNumberGuardTest, FindsAnyStandAloneElevenDigitNumber) {
  EXPECT_EQ(FindIdentityNumbers("national_id=01010112345 refused", "x").size(), 1u);
  EXPECT_EQ(FindIdentityNumbers("\"01010112345\"", "x").size(), 1u);
  EXPECT_EQ(FindIdentityNumbers("01010112345", "x").size(), 1u);
}

TEST(IdentityNumberGuardTest, LetsHashesUuidsTimesAndCountsPass) {
  EXPECT_TRUE(FindIdentityNumbers("content_hash=a98765432101f 0190f3e2-7c1a-7000-8000-012345678901 "
                                  "ts=2026-12-01T19:29:26.123456Z infoflyt_posts_total 1234567890 "
                                  "012345678901 0123456789",
                                  "x")
                  .empty());
}

TEST(IdentityNumberGuardTest, OnlyTheDisclosedNationalIdFieldOfCliOutputIsAllowed) {
  EXPECT_TRUE(FindIdentityNumbers(WithoutDisclosedPayloadIds(
                                      "{\"person\":{\"national_id\":\"15076500565\",\"given\":1}}"),
                                  "x")
                  .empty());
  EXPECT_EQ(FindIdentityNumbers(
                WithoutDisclosedPayloadIds("error: national_id 15076500565 is not valid"), "x")
                .size(),
            1u);
}

}  // namespace
}  // namespace infoflyt::testing
