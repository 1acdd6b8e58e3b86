// Nothing receipted is lost: kill -9 the daemon again and again while posts and a subscription
// are in flight, restart it, and check that every message that got a receipt is delivered and
// stored once; and SIGTERM finishes the calls in flight before the daemon exits.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

#include "integration/test_daemon.h"
#include "integration/workers.h"
#include "small_tmpfs.h"
#include "test_util.h"
#include "unit/test_envelopes.h"

namespace infoflyt::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int kPosters = 6;
constexpr int kMinKills = 3;
constexpr int kMaxKills = 40;
constexpr size_t kReceiptsBetweenKills = 12;

// What the posters saw, under one lock.
struct PostLedger {
  std::mutex mu;
  std::set<std::string> receipted;  // Message ids with a receipt.
  std::set<std::string> received;   // Message ids the subscriber was sent.
  int retried = 0;     // Posts that failed at least once (a kill cut them off) and were resent.
  int duplicates = 0;  // Retries answered as duplicates: committed, but the answer was lost.
  std::string last_error;
};

size_t Receipted(PostLedger& ledger) {
  std::lock_guard lock(ledger.mu);
  return ledger.receipted.size();
}

// Nothing receipted is lost, however often infoflytd is killed while posts are in flight.
//
// kill -9 ends the process but not the machine: the page cache survives and the kernel still
// writes it out, so a store that skipped fsync would pass this test too. What guards against
// that is the durability the store reads back and refuses to open without
// (SqliteStoreTest.CommitsAreFsyncedAsTheCommittingConnectionsReport, and the daemon's start).
TEST(CrashRecoveryTest, NothingReceiptedIsLostWhenKillsCutOffPostsInFlight) {
  TestDaemon daemon;
  ASSERT_TRUE(daemon.Start()) << daemon.Log();
  auto police = daemon.Client("police-oslo");
  PostLedger ledger;
  Workers posters;
  Workers subscriber;

  // The subscriber acknowledges as it goes and, like any real client, reconnects after the
  // stream breaks, resuming from its first unacknowledged delivery. Each attempt is bounded, so
  // an attempt waiting for a daemon that is gone cannot keep the thread alive.
  subscriber.Add([&] {
    while (!subscriber.stopping()) {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + seconds(3));
      police->Subscribe(0, &context, [&](const v1::Delivery& d) {
        {
          // Received counts, acknowledged or not: an ack can be committed just before a kill
          // swallows its response, and then the delivery is rightly not sent again.
          std::lock_guard lock(ledger.mu);
          ledger.received.insert(d.message_id());
        }
        v1::AckResponse ack;
        if (!police->Ack({d.delivery_id()}, &ack).ok()) return false;  // Reconnect, redeliver.
        return !subscriber.stopping();
      });
      std::this_thread::sleep_for(milliseconds(50));  // Reconnect back-off.
    }
  });

  // Each poster resends a failed post as it was, idempotency key and all, as clients are told
  // to, until it is receipted: the envelope is made once, not again with a later planned time.
  // Clients are made here, not on the posters' threads, which would read the harness's address
  // while this thread restarts the daemon (a restart keeps the port, so they stay valid).
  std::vector<std::unique_ptr<client::ExchangeClient>> prisons(kPosters);
  for (auto& prison : prisons) prison = daemon.Client("correctional-oslo-fengsel");
  for (int p = 0; p < kPosters; ++p) {
    posters.Add([&, p] {
      for (int i = 0; !posters.stopping(); ++i) {
        const v1::Envelope envelope =
            ReleaseNotice("crash-" + std::to_string(p) + "-" + std::to_string(i));
        bool failed = false;
        // Until receipted, also once told to stop (an unfinished post would be stored without
        // a receipt); but for at most 40 s, far longer than any restart here.
        const auto until = std::chrono::steady_clock::now() + seconds(40);
        while (std::chrono::steady_clock::now() < until) {
          v1::Receipt receipt;
          const grpc::Status s = prisons[p]->Post(envelope, &receipt);
          {
            std::lock_guard lock(ledger.mu);
            if (s.ok()) {
              ledger.receipted.insert(receipt.message_id());
              ledger.retried += failed;
              ledger.duplicates += receipt.duplicate();
              break;
            }
            ledger.last_error = s.error_message();
          }
          failed = true;
          std::this_thread::sleep_for(milliseconds(20));
        }
      }
    });
  }

  // Kill under load until kills have been seen both to cut off a post before its commit (a
  // retry) and after it (a retry answered as a duplicate), at least kMinKills times.
  int kills = 0;
  auto seen_enough = [&] {
    std::lock_guard lock(ledger.mu);
    return kills >= kMinKills && ledger.retried > 0 && ledger.duplicates > 0;
  };
  while (!seen_enough() && kills < kMaxKills) {
    const size_t target = Receipted(ledger) + kReceiptsBetweenKills;
    const auto until = std::chrono::steady_clock::now() + seconds(30);
    while (Receipted(ledger) < target && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(milliseconds(1));
    }
    if (Receipted(ledger) < target) {
      std::lock_guard lock(ledger.mu);
      FAIL() << "posting stalled after " << kills << " kills: " << ledger.last_error << "\n"
             << daemon.Log();
    }
    daemon.Kill();
    ++kills;
    ASSERT_TRUE(daemon.Start()) << "restart after kill " << kills << ": " << daemon.Log();
  }
  posters.StopAndJoin();

  // Every receipted message reaches the subscriber.
  const auto until = std::chrono::steady_clock::now() + seconds(30);
  while (std::chrono::steady_clock::now() < until) {
    {
      std::lock_guard lock(ledger.mu);
      if (std::includes(ledger.received.begin(), ledger.received.end(), ledger.receipted.begin(),
                        ledger.receipted.end())) {
        break;
      }
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  subscriber.StopAndJoin();
  std::lock_guard lock(ledger.mu);
  std::cerr << kills << " kills; " << ledger.receipted.size() << " posts receipted, "
            << ledger.retried << " cut off and retried, " << ledger.duplicates
            << " of them already committed\n";
  EXPECT_GE(kills, kMinKills);
  EXPECT_GT(ledger.retried, 0) << "no kill cut off a post in flight";
  EXPECT_GT(ledger.duplicates, 0) << "no kill fell between a commit and its receipt";
  std::vector<std::string> missing;
  std::set_difference(ledger.receipted.begin(), ledger.receipted.end(), ledger.received.begin(),
                      ledger.received.end(), std::back_inserter(missing));
  EXPECT_TRUE(missing.empty()) << missing.size() << " receipted messages never delivered";
  // Every receipted message is stored once, with both deliveries and records; nothing else is.
  const auto n = static_cast<int64_t>(ledger.receipted.size());
  EXPECT_EQ(daemon.CountRows("messages"), n);
  EXPECT_EQ(daemon.CountRows("deliveries"), 2 * n);
  EXPECT_EQ(daemon.CountRows("disclosures WHERE event = 'disclose'"), 2 * n);
  // And one acknowledge record for each delivery acknowledged, no more.
  EXPECT_EQ(daemon.CountRows("disclosures WHERE event = 'acknowledge'"),
            daemon.CountRows("deliveries WHERE acked_at IS NOT NULL"));
  // And the rules put in force at each start.
  EXPECT_EQ(daemon.CountRows("disclosures WHERE event = 'policy'"), kills + 1);
  EXPECT_EQ(daemon.CountRows("disclosures"),
            2 * n + daemon.CountRows("disclosures WHERE event = 'acknowledge'") + kills + 1);
}

// SIGTERM drains: posts in flight at the signal still get their receipts, later ones are
// refused, and the daemon exits 0 having stored exactly what it receipted.
TEST(CrashRecoveryTest, SigtermFinishesThePostsInFlightAndExitsCleanly) {
  TestDaemon daemon;
  ASSERT_TRUE(daemon.Start()) << daemon.Log();
  struct Call {
    std::chrono::steady_clock::time_point start;
    std::chrono::steady_clock::time_point end;
    grpc::Status status;
  };
  std::mutex mu;
  std::vector<Call> calls;
  std::set<std::string> receipted;
  // Not waiting for a connection: a post after the daemon has gone fails at once.
  std::vector<std::unique_ptr<client::ExchangeClient>> prisons(kPosters);
  for (auto& prison : prisons) {
    client::ClientOptions options = daemon.Options("correctional-oslo-fengsel");
    options.wait_for_ready = false;
    ASSERT_TRUE(client::ExchangeClient::Connect(options, &prison).ok());
  }
  Workers posters;
  for (int p = 0; p < kPosters; ++p) {
    posters.Add([&, p, prison = prisons[p].get()] {
      for (int i = 0; !posters.stopping(); ++i) {
        Call call;
        call.start = std::chrono::steady_clock::now();
        v1::Receipt receipt;
        call.status = prison->Post(
            ReleaseNotice("drain-" + std::to_string(p) + "-" + std::to_string(i)), &receipt);
        call.end = std::chrono::steady_clock::now();
        std::lock_guard lock(mu);
        calls.push_back(call);
        if (!call.status.ok()) return;  // Refused: the daemon is going.
        receipted.insert(receipt.message_id());
      }
    });
  }
  auto receipts = [&] {
    std::lock_guard lock(mu);
    return receipted.size();
  };
  const auto until = std::chrono::steady_clock::now() + seconds(30);
  while (receipts() < 30 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(milliseconds(1));
  }
  ASSERT_GE(receipts(), 30u) << daemon.Log();
  // Holding the database's write lock keeps every poster's post in flight (the daemon waits
  // out a busy database), so the signal meets posts in flight however the batches fall.
  sqlite3* lock = nullptr;
  ASSERT_EQ(sqlite3_open(daemon.db_path().c_str(), &lock), SQLITE_OK);
  sqlite3_busy_timeout(lock, 10'000);
  ASSERT_EQ(sqlite3_exec(lock, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  ASSERT_TRUE(Eventually([&] {
    return MetricValue(daemon.Metrics(), "infoflyt_posts_in_flight") == kPosters;
  })) << daemon.Metrics();
  const auto before_signal = std::chrono::steady_clock::now();
  daemon.Signal(SIGTERM);
  const auto after_signal = std::chrono::steady_clock::now();
  ASSERT_TRUE(Eventually([&] { return daemon.Log().find("draining") != std::string::npos; }));
  sqlite3_close(lock);  // Rolls back; the daemon's batch goes through.
  EXPECT_EQ(daemon.WaitForExit(), 0) << daemon.Log();
  posters.StopAndJoin();

  // The daemon itself counts the posts it had received and not yet answered.
  const std::string log = daemon.Log();
  const size_t draining = log.find("received SIGTERM, draining ");
  ASSERT_NE(draining, std::string::npos) << log;
  EXPECT_EQ(std::atoi(log.c_str() + draining + 27), kPosters) << log.substr(draining, 60);
  EXPECT_NE(log.find("msg=\"stopped\""), std::string::npos) << log;

  int in_flight = 0;
  for (const Call& c : calls) {
    if (c.start < before_signal && c.end > after_signal) {
      // A call the server had not yet handed to its handler is refused (UNAVAILABLE) or, if
      // gRPC had already accepted its stream, cancelled; either way it stored nothing (checked
      // below: the daemon holds exactly the receipted messages).
      const grpc::StatusCode code = c.status.error_code();
      EXPECT_TRUE(c.status.ok() || code == grpc::StatusCode::UNAVAILABLE ||
                  code == grpc::StatusCode::CANCELLED)
          << code << ": " << c.status.error_message();
      in_flight += c.status.ok();
    }
  }
  EXPECT_EQ(in_flight, kPosters) << "posts in flight at the signal were not finished";
  ASSERT_TRUE(daemon.Start()) << daemon.Log();
  EXPECT_EQ(daemon.CountRows("messages"), static_cast<int64_t>(receipted.size()));
}

// The store's durability, as the running daemon read it back from its store: WAL, full syncs.
TEST(CrashRecoveryTest, TheDaemonLogsTheDurabilityItsStoreReadBack) {
  TestDaemon daemon;
  ASSERT_TRUE(daemon.Start()) << daemon.Log();
  EXPECT_NE(daemon.Log().find(" journal_mode=wal synchronous=full checkpoint_synchronous=full "),
            std::string::npos)
      << daemon.Log();
}

// A full disk: posts fail retryably (UNAVAILABLE, no receipt), operators see it (one warning,
// /healthz failing naming the store, a gauge), and once there is room again posts succeed, the
// daemon says so, and every receipted message is still there. The database is on a tmpfs of its
// own, small enough to fill (mounting it needs root, as CI is).
TEST(FullDiskTest, PostsFailRetryablyWhileTheDiskIsFullAndOperatorsAreTold) {
  TestDaemon daemon;
  const SmallTmpfs disk(
      daemon.server_cert_path().substr(0, daemon.server_cert_path().rfind('/')) + "/small", "2m");
  ASSERT_EQ(disk.error(), "");
  const std::string& small = disk.dir();
  daemon.set_store_config("sqlite_path = \"" + small + "/infoflyt.db\"\n");
  ASSERT_TRUE(daemon.Start()) << daemon.Log();
  auto client = daemon.Client("correctional-oslo-fengsel");
  std::vector<std::string> receipted;
  grpc::Status failed;
  for (int i = 0; i < 20'000 && failed.ok(); ++i) {
    v1::Receipt receipt;
    failed = client->Post(ReleaseNotice("full-" + std::to_string(i)), &receipt);
    if (failed.ok()) receipted.push_back(receipt.message_id());
  }
  ASSERT_FALSE(failed.ok()) << "the disk never filled";
  EXPECT_EQ(failed.error_code(), grpc::StatusCode::UNAVAILABLE) << failed.error_message();
  EXPECT_GT(receipted.size(), 10u);
  int status = 0;
  const std::string body = daemon.Healthz(&status);
  EXPECT_EQ(status, 503) << body;
  EXPECT_NE(body.find("failing store: writes fail, nothing is receipted: "), std::string::npos)
      << body;
  EXPECT_EQ(MetricValue(daemon.Metrics(), "infoflyt_store_writes_failing"), 1);
  EXPECT_GT(MetricValue(daemon.Metrics(), "infoflyt_commit_seconds_count"), 10);
  v1::Receipt again;
  EXPECT_FALSE(client->Post(ReleaseNotice("full-again"), &again).ok());
  EXPECT_EQ(CountOccurrences(daemon.Log(), "store: writes fail"), 1) << daemon.Log();

  ASSERT_TRUE(disk.Resize("64m"));
  v1::Receipt after;
  ASSERT_TRUE(Eventually([&] { return client->Post(ReleaseNotice("full-after"), &after).ok(); }));
  EXPECT_TRUE(Eventually([&] { return daemon.Healthz(&status) == "ok\n"; }));
  EXPECT_NE(daemon.Log().find("store: writes succeed again"), std::string::npos);
  EXPECT_EQ(MetricValue(daemon.Metrics(), "infoflyt_store_writes_failing"), 0);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2((small + "/infoflyt.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
            SQLITE_OK);
  std::set<std::string> stored;
  sqlite3_stmt* q = nullptr;
  sqlite3_prepare_v2(db, "SELECT message_id FROM messages", -1, &q, nullptr);
  while (sqlite3_step(q) == SQLITE_ROW) {
    stored.insert(reinterpret_cast<const char*>(sqlite3_column_text(q, 0)));
  }
  sqlite3_finalize(q);
  sqlite3_close(db);
  EXPECT_EQ(stored.size(), receipted.size() + 1);
  for (const std::string& id : receipted) EXPECT_TRUE(stored.contains(id)) << id;
  daemon.Kill();
}

}  // namespace
}  // namespace infoflyt::testing
