// A gtest suite whose tests share one real daemon, started before the suite's first test.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "integration/test_daemon.h"

namespace infoflyt::testing {

class SharedDaemonTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    daemon_ = std::make_unique<TestDaemon>();
    ASSERT_TRUE(daemon_->Start()) << daemon_->Log();
  }
  static void TearDownTestSuite() { daemon_.reset(); }
  // Each test answers for the identity numbers printed while it ran.
  void TearDown() override {
    if (daemon_) daemon_->ExpectNoIdentityNumbers();
  }
  // A fresh idempotency key, named after the running test.
  static std::string Key() {
    return std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "-" +
           std::to_string(counter_++);
  }

  inline static std::unique_ptr<TestDaemon> daemon_;
  inline static int counter_ = 0;
};

}  // namespace infoflyt::testing
