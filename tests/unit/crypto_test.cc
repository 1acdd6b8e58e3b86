#include "base/crypto.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

namespace infoflyt {
namespace {

TEST(CryptoTest, Sha256MatchesTheFips180Example) {
  EXPECT_EQ(ToHex(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(CryptoTest, HmacSha256MatchesRfc4231TestCase2) {
  EXPECT_EQ(ToHex(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(CryptoTest, UuidV7IsWellFormedUniqueAndTimeOrdered) {
  std::set<std::string> seen;
  std::string previous;
  for (int i = 0; i < 5; ++i) {
    const std::string id = NewUuidV7();
    ASSERT_EQ(id.size(), 36u);
    EXPECT_EQ(id[8], '-');
    EXPECT_EQ(id[14], '7') << id;                                          // Version 7.
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;  // RFC 9562 variant.
    EXPECT_TRUE(seen.insert(id).second);
    // Ids from later milliseconds sort after earlier ones.
    EXPECT_GT(id, previous);
    previous = id;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace
}  // namespace infoflyt
