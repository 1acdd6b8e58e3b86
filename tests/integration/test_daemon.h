// The daemon as integration tests run it: a DaemonProcess whose every output is checked for
// identity numbers (integration/identity_number_guard.h), failing the running test on one.
// Every integration test uses this, never a bare DaemonProcess.
#pragma once

#include <gtest/gtest.h>

#include "integration/daemon_harness.h"
#include "integration/identity_number_guard.h"

namespace infoflyt::testing {

class TestDaemon : public DaemonProcess {
 public:
  TestDaemon() = default;
  // Checks what is left before the daemon is stopped, while /metrics can still be read.
  ~TestDaemon() { ExpectNoIdentityNumbers(); }
  TestDaemon(const TestDaemon&) = delete;
  TestDaemon& operator=(const TestDaemon&) = delete;

  // Fails the running test for every identity number printed since the last check.
  void ExpectNoIdentityNumbers() {
    for (const CapturedOutput& output : TakeOutputs()) {
      if (output.where == "/metrics" && output.text.empty()) {
        ADD_FAILURE() << "the daemon runs but /metrics could not be read";
      }
      const std::string text =
          output.disclosed_payload ? WithoutDisclosedPayloadIds(output.text) : output.text;
      for (const std::string& finding : FindIdentityNumbers(text, output.where)) {
        ADD_FAILURE() << finding;
      }
    }
  }
};

}  // namespace infoflyt::testing
