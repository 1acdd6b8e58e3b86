// SIGHUP reloads the parties registry (and places and legal bases) without a restart and
// without dropping connections; a broken file keeps the running configuration.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

#include "integration/test_daemon.h"

namespace infoflyt::testing {
namespace {

// Waits until the daemon's log has `count` occurrences of `text`.
bool WaitForLog(const TestDaemon& daemon, const std::string& text, int count) {
  for (int i = 0; i < 500; ++i) {
    const std::string log = daemon.Log();
    int found = 0;
    for (size_t at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) ++found;
    if (found >= count) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

TEST(ReloadTest, SighupRevokesARemovedPartyOnItsOpenConnection) {
  TestDaemon daemon;
  ASSERT_TRUE(daemon.Start()) << daemon.Log();
  auto bergen = daemon.Client("municipality-4601");
  v1::MessageStatus status;
  // Registered: the call is answered (there is no such message).
  EXPECT_EQ(bergen->GetMessageStatus("m", &status).error_code(), grpc::StatusCode::NOT_FOUND);

  // A broken file is refused and the running registry kept.
  std::string original;
  {
    std::ifstream in(daemon.parties_path());
    std::ostringstream ss;
    ss << in.rdbuf();
    original = ss.str();
  }
  std::ofstream(daemon.parties_path()) << original << "\n[[party]]\nkind = \"army\"\n";
  daemon.Signal(SIGHUP);
  ASSERT_TRUE(WaitForLog(daemon, "SIGHUP reload failed", 1)) << daemon.Log();
  EXPECT_EQ(bergen->GetMessageStatus("m", &status).error_code(), grpc::StatusCode::NOT_FOUND);

  // Bergen removed from the registry: refused on the same channel after SIGHUP.
  const std::string entry = "[[party]]\nkind = \"municipality\"\nid = \"4601\"\n";
  const size_t at = original.find(entry);
  ASSERT_NE(at, std::string::npos);
  std::string without = original;
  without.erase(at, original.find("[[party]]", at + 1) - at);
  std::ofstream(daemon.parties_path()) << without;
  daemon.Signal(SIGHUP);
  ASSERT_TRUE(WaitForLog(daemon, "SIGHUP: reloaded", 1)) << daemon.Log();
  const grpc::Status s = bergen->GetMessageStatus("m", &status);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(s.error_message(), "party municipality/4601 is not registered");
  // Others carry on.
  auto oslo = daemon.Client("municipality-0301");
  EXPECT_EQ(oslo->GetMessageStatus("m", &status).error_code(), grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace infoflyt::testing
