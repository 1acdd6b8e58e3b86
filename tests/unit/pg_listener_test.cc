// Commit notifications across daemons (store/pg_listener.h): the payload format, and a listener
// on a real PostgreSQL database that hears what a store commits and reconnects by itself.
#include "store/pg_listener.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "pg_cluster.h"
#include "store/pg_store.h"
#include "test_data_keys.h"

namespace infoflyt {
namespace {

using ::infoflyt::testing::PgCluster;
using std::chrono::seconds;

TEST(CommitNoticeTest, RoundTripsPartiesAndTheEarliestDeadline) {
  CommitNotice notice;
  notice.parties = {"municipality/0301", "police/oslo"};
  notice.earliest_deadline = 1'700'000'000'000'000;
  const std::vector<std::string> payloads = EncodeCommitNotice(notice);
  ASSERT_EQ(payloads.size(), 1u);
  EXPECT_EQ(payloads[0], "@1700000000000000 municipality/0301 police/oslo");
  CommitNotice decoded;
  ASSERT_TRUE(DecodeCommitNotice(payloads[0], &decoded).ok());
  EXPECT_FALSE(decoded.all);
  EXPECT_EQ(decoded.parties, notice.parties);
  EXPECT_EQ(decoded.earliest_deadline, notice.earliest_deadline);

  CommitNotice bad;
  EXPECT_EQ(DecodeCommitNotice("@12x police/oslo", &bad).code(), Code::kInvalidArgument);
}

TEST(CommitNoticeTest, ManyPartiesAreSplitUnderThePayloadLimit) {
  CommitNotice notice;
  for (int i = 0; i < 1000; ++i) notice.parties.push_back("municipality/" + std::to_string(i));
  const std::vector<std::string> payloads = EncodeCommitNotice(notice);
  ASSERT_GT(payloads.size(), 1u);
  std::vector<std::string> all;
  for (const std::string& payload : payloads) {
    EXPECT_LT(payload.size(), 8000u);
    CommitNotice part;
    ASSERT_TRUE(DecodeCommitNotice(payload, &part).ok());
    all.insert(all.end(), part.parties.begin(), part.parties.end());
  }
  EXPECT_EQ(all, notice.parties);
}

// Collects what a listener reports.
class Heard {
 public:
  void Add(const CommitNotice& notice) {
    std::lock_guard lock(mu_);
    notices_.push_back(notice);
    cv_.notify_all();
  }
  // Waits for a notice satisfying `pred`.
  template <typename Pred>
  bool WaitFor(Pred pred, seconds timeout = seconds(10)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return std::ranges::any_of(notices_, pred); });
  }
  size_t size() {
    std::lock_guard lock(mu_);
    return notices_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<CommitNotice> notices_;
};

class PgListenerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const Status& cluster = PgCluster::Shared().status();
    ASSERT_TRUE(cluster.ok()) << cluster.message();
    ASSERT_TRUE(PgCluster::Shared().CreateDatabase(&database_).ok());
    const Status s = PgStore::Open({.conninfo = ConnInfo(),
                                    .instance = "test",
                                    .version = "0",
                                    .readers = 1,
                                    .allow_fsync_off = true},
                                   &store_);
    ASSERT_TRUE(s.ok()) << s.message();
    store_->SetDataKeys(testing::TestDataKeys());
  }
  std::string ConnInfo() const { return PgCluster::Shared().ConnInfo(database_); }

  // Posts a message to `recipients`, the first with an acknowledgement deadline.
  Status Post(const std::string& key, const std::vector<std::string>& recipients,
              int64_t deadline) {
    PostOp op;
    NewMessage& m = op.message;
    m.message_id = "m-" + key;
    m.sender = "pst/pst";
    m.idempotency_key = key;
    m.request_hash = "h-" + key;
    m.message_type = "return_notice";
    m.legal_basis = "polregl-27-2";
    m.handling = "TLP_AMBER";
    for (const std::string& r : recipients) {
      m.recipients.push_back({r, "envelope", "*", "hash", "", "", "", "", std::nullopt});
    }
    m.recipients[0].ack_deadline = deadline;
    std::vector<WriteOp> ops{std::move(op)};
    std::vector<WriteOp*> ptrs{ops.data()};
    if (Status s = store_->Apply(ptrs, 1000); !s.ok()) return s;
    return std::get<PostOp>(ops[0]).status;
  }

  std::string database_;
  std::unique_ptr<PgStore> store_;
};

TEST_F(PgListenerTest, HearsCommittedDeliveriesAndTheirDeadlines) {
  Heard heard;
  std::unique_ptr<PgListener> listener;
  ASSERT_TRUE(PgListener::Start(
                  ConnInfo(), "", [&](const CommitNotice& n) { heard.Add(n); }, &listener)
                  .ok());
  ASSERT_TRUE(Post("k1", {"municipality/0301", "police/oslo"}, 5'000'000).ok());
  EXPECT_TRUE(heard.WaitFor([](const CommitNotice& n) {
    return !n.all && n.parties == std::vector<std::string>{"municipality/0301", "police/oslo"} &&
           n.earliest_deadline == 5'000'000;
  }));
  // A duplicate stores nothing and tells nobody.
  const size_t before = heard.size();
  ASSERT_TRUE(Post("k1", {"municipality/0301", "police/oslo"}, 5'000'000).ok());
  ASSERT_TRUE(Post("k2", {"police/bergen"}, 6'000'000).ok());
  EXPECT_TRUE(heard.WaitFor([](const CommitNotice& n) {
    return n.parties == std::vector<std::string>{"police/bergen"};
  }));
  EXPECT_EQ(heard.size(), before + 1);
}

TEST_F(PgListenerTest, ReconnectsByItselfAndThenReportsThatAnythingMayHaveBeenMissed) {
  Heard heard;
  std::unique_ptr<PgListener> listener;
  ASSERT_TRUE(PgListener::Start(
                  ConnInfo(), "", [&](const CommitNotice& n) { heard.Add(n); }, &listener)
                  .ok());
  std::unique_ptr<PgConn> admin;
  ASSERT_TRUE(PgConn::Connect(ConnInfo(), "", nullptr, &admin).ok());
  PgResult ended;
  ASSERT_TRUE(admin
                  ->QueryOnce("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                              "query = 'LISTEN infoflyt_deliveries'",
                              {}, &ended)
                  .ok());
  ASSERT_EQ(ended.rows(), 1);
  EXPECT_TRUE(heard.WaitFor([](const CommitNotice& n) { return n.all; }));
  // Listening again: commits are heard as before.
  ASSERT_TRUE(Post("k1", {"police/oslo"}, 5'000'000).ok());
  EXPECT_TRUE(heard.WaitFor(
      [](const CommitNotice& n) { return n.parties == std::vector<std::string>{"police/oslo"}; }));
}

}  // namespace
}  // namespace infoflyt
