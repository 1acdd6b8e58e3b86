// The harness itself: a daemon that cannot start is a clear failure with its log, not an
// exception or a hang.
#include <gtest/gtest.h>

#include "integration/test_daemon.h"

namespace infoflyt::testing {
namespace {

TEST(HarnessTest, ADaemonThatExitsAtStartIsReportedWithItsLog) {
  TestDaemon daemon;
  daemon.set_extra_config("[server]\nlisten = \"again\"\n");  // A second [server] table.
  EXPECT_FALSE(daemon.Start());
  EXPECT_FALSE(daemon.running());
  const std::string log = daemon.Log();
  EXPECT_NE(log.find("harness: infoflytd exited before it was ready, status "), std::string::npos)
      << log;
  EXPECT_NE(log.find("cannot redefine existing table 'server'"), std::string::npos) << log;
}

}  // namespace
}  // namespace infoflyt::testing
