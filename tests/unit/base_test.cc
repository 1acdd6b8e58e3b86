// The small pieces of daemon/base that security rests on: log lines no value can forge, the
// rate bound that keeps a flood of refusals from flooding the log, listen addresses, and how
// key files are made.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "base/files.h"
#include "base/host_port.h"
#include "base/log.h"
#include "base/rate_bound.h"

namespace infoflyt {
namespace {

TEST(HostPortTest, SplitsAtTheLastColonAndTakesIpv6InBrackets) {
  HostPort hp;
  ASSERT_TRUE(ParseHostPort("127.0.0.1:50051", "x", &hp).ok());
  EXPECT_EQ(hp.host, "127.0.0.1");
  EXPECT_EQ(hp.port, 50051);
  ASSERT_TRUE(ParseHostPort("[::1]:0", "x", &hp).ok());
  EXPECT_EQ(hp.host, "::1");
  EXPECT_EQ(hp.port, 0);
  ASSERT_TRUE(ParseHostPort("localhost:65535", "x", &hp).ok());
  EXPECT_EQ(hp.port, 65535);
  const Status s = ParseHostPort("::1:80", "server.listen", &hp);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("server.listen must be host:port"), std::string::npos);
}

TEST(LogFieldsTest, ValuesCannotForgeALineOrAField) {
  ::testing::internal::CaptureStderr();
  LogFields(LogLevel::kWarning, {{"event", "auth_refused"},
                                 {"spiffe_id", "spiffe://x/y\nts=1 level=info event=ok"},
                                 {"subject", "CN=a b,O=\"c\""},
                                 {"detail", "tab\there\r"}});
  const std::string line = ::testing::internal::GetCapturedStderr();
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;  // One line.
  EXPECT_NE(line.find(" level=warning event=auth_refused "), std::string::npos) << line;
  EXPECT_NE(line.find(" spiffe_id=\"spiffe://x/y\\x0ats=1 level=info event=ok\""),
            std::string::npos)
      << line;
  EXPECT_NE(line.find(" subject=\"CN=a b,O=\\\"c\\\"\""), std::string::npos) << line;
  EXPECT_NE(line.find(" detail=\"tab\\x09here\\x0d\"\n"), std::string::npos) << line;
}

TEST(RateBoundTest, AdmitsOnePerKeyAndWindowAndCountsTheRest) {
  RateBound bound(1000, 2);
  uint64_t suppressed = 99;
  EXPECT_TRUE(bound.Admit("a", 0, &suppressed));
  EXPECT_EQ(suppressed, 0u);
  EXPECT_FALSE(bound.Admit("a", 10, &suppressed));
  EXPECT_FALSE(bound.Admit("a", 999, &suppressed));
  EXPECT_TRUE(bound.Admit("b", 10, &suppressed));
  // Full of live windows: a new key is not admitted, and does not reset the others.
  EXPECT_FALSE(bound.Admit("c", 20, &suppressed));
  EXPECT_FALSE(bound.Admit("a", 500, &suppressed));
  // The next window says how many were left out.
  EXPECT_TRUE(bound.Admit("a", 1000, &suppressed));
  EXPECT_EQ(suppressed, 3u);
  // Expired windows make room.
  EXPECT_TRUE(bound.Admit("c", 2500, &suppressed));
  // An admitted event that could not be recorded: the next is admitted and counts it (and
  // what it stood for).
  EXPECT_TRUE(bound.Admit("c", 3600, &suppressed));
  EXPECT_EQ(suppressed, 0u);
  EXPECT_FALSE(bound.Admit("c", 3601, &suppressed));
  EXPECT_TRUE(bound.Admit("b", 3602, &suppressed));
  bound.Retract("b", 2);
  EXPECT_TRUE(bound.Admit("b", 3603, &suppressed));
  EXPECT_EQ(suppressed, 3u);
}

}  // namespace
}  // namespace infoflyt

namespace infoflyt {
namespace {

// A key file is the owner's only from the first byte, and never replaces a file.
TEST(CreateSecretFileTest, MakesAnOwnerOnlyFileAndNeverReplacesOne) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("infoflyt-secret-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "subject.key").string();
  ASSERT_TRUE(CreateSecretFile(path, "first").ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const Status again = CreateSecretFile(path, "second");
  EXPECT_EQ(again.code(), Code::kFailedPrecondition);
  EXPECT_NE(again.message().find(path), std::string::npos) << again.message();
  std::string text;
  ASSERT_TRUE(ReadFile(path, &text).ok());
  EXPECT_EQ(text, "first");
  EXPECT_FALSE(std::filesystem::exists(path + ".new"));  // Nothing left behind.
  bool exists = false;
  ASSERT_TRUE(FileExists(path, &exists).ok());
  EXPECT_TRUE(exists);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace infoflyt
