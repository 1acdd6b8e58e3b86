// Nothing receipted is lost: kill -9 the daemon while posts and a subscription are in flight,
// restart it, and check that every message that got a receipt is delivered.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "integration/test_daemon.h"
#include "unit/test_envelopes.h"

namespace infoflyt::testing {
namespace {

constexpr int kPostsBeforeCrash = 60;
constexpr int kPostsInAll = 120;

TEST(CrashRecoveryTest, EveryReceiptedMessageIsDeliveredAfterKill9AndRestart) {
  TestDaemon daemon;
  ASSERT_TRUE(daemon.Start()) << daemon.Log();
  auto prison = daemon.Client("correctional-oslo-fengsel");
  auto police = daemon.Client("police-oslo");

  std::mutex mu;
  std::set<std::string> receipted;
  std::set<std::string> received;
  std::atomic<bool> stop{false};

  // The subscriber acknowledges as it goes and, like any real client, reconnects after the
  // stream breaks, resuming from its first unacknowledged delivery. Each attempt is bounded, so
  // an attempt waiting for a daemon that is gone (the final kill) cannot keep the thread alive.
  std::thread subscriber([&] {
    while (!stop) {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
      std::atomic<bool>* stop_flag = &stop;
      police->Subscribe(0, &context, [&](const v1::Delivery& d) {
        {
          // Received counts, acknowledged or not: an ack can be committed just before a crash
          // swallows its response, and then the delivery is rightly not sent again.
          std::lock_guard lock(mu);
          received.insert(d.message_id());
        }
        v1::AckResponse ack;
        if (!police->Ack({d.delivery_id()}, &ack).ok()) return false;  // Reconnect, redeliver.
        return !stop_flag->load();
      });
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // Reconnect back-off.
    }
  });

  // A retry resends the same request, idempotency key and all, as clients are told to. (A post
  // committed just before the kill loses its response; its retry must match it byte for byte, so
  // the envelopes are made once, not again at each attempt with a later planned time.)
  std::vector<v1::Envelope> envelopes;
  envelopes.reserve(kPostsInAll);
  for (int i = 0; i < kPostsInAll; ++i)
    envelopes.push_back(ReleaseNotice("crash-" + std::to_string(i)));
  int sent = 0;
  int failures = 0;
  grpc::Status last_error;
  auto post_until = [&](int target) {
    while (sent < target) {
      v1::Receipt receipt;
      const grpc::Status s = prison->Post(envelopes[sent], &receipt);
      if (s.ok()) {
        std::lock_guard lock(mu);
        receipted.insert(receipt.message_id());
        ++sent;
      } else {
        ++failures;
        last_error = s;
        if (failures > 200) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
  };
  std::thread poster([&] { post_until(kPostsBeforeCrash); });
  // Crash in the middle of the posting and streaming.
  while (true) {
    {
      std::lock_guard lock(mu);
      if (receipted.size() >= kPostsBeforeCrash / 2) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  daemon.Kill();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  // Ends the subscription for good; also before failing, so no thread outlives the test.
  auto stop_subscriber = [&] {
    stop = true;
    daemon.Kill();
    subscriber.join();
  };
  const bool restarted = daemon.Start();
  poster.join();
  if (!restarted) {
    stop_subscriber();
    FAIL() << "restart: " << daemon.Log();
  }
  post_until(kPostsInAll);
  if (sent != kPostsInAll) {
    stop_subscriber();
    FAIL() << sent << " of " << kPostsInAll
           << " posts receipted; last error: " << last_error.error_message() << "\n"
           << daemon.Log();
  }

  // Every receipted message reaches the subscriber.
  for (int i = 0; i < 1500; ++i) {
    {
      std::lock_guard lock(mu);
      if (std::includes(received.begin(), received.end(), receipted.begin(), receipted.end())) {
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop_subscriber();
  std::lock_guard lock(mu);
  EXPECT_EQ(receipted.size(), static_cast<size_t>(kPostsInAll));
  std::vector<std::string> missing;
  std::set_difference(receipted.begin(), receipted.end(), received.begin(), received.end(),
                      std::back_inserter(missing));
  EXPECT_TRUE(missing.empty()) << missing.size() << " receipted messages never delivered";
  // And every receipted message is durably stored with both deliveries and records.
  EXPECT_EQ(daemon.CountRows("messages"), kPostsInAll);
  EXPECT_EQ(daemon.CountRows("deliveries"), 2 * kPostsInAll);
  EXPECT_EQ(daemon.CountRows("disclosures"), 2 * kPostsInAll);
}

TEST(CrashRecoveryTest, SigtermDrainsAndExitsCleanly) {
  TestDaemon daemon;
  ASSERT_TRUE(daemon.Start()) << daemon.Log();
  auto prison = daemon.Client("correctional-oslo-fengsel");
  v1::Receipt receipt;
  ASSERT_TRUE(prison->Post(ReleaseNotice("drain"), &receipt).ok());
  EXPECT_EQ(daemon.Terminate(), 0);
  EXPECT_NE(daemon.Log().find("received SIGTERM, draining"), std::string::npos);
  ASSERT_TRUE(daemon.Start()) << daemon.Log();
  EXPECT_EQ(daemon.CountRows("messages"), 1);
}

}  // namespace
}  // namespace infoflyt::testing
