// The real daemon on the PostgreSQL store, in a throwaway cluster (tests/pg_cluster.h): a post,
// its delivery and acknowledgement, a restart, the disclosure log exported and verified
// offline; and two daemons on one database.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "integration/subscriber.h"
#include "integration/test_daemon.h"
#include "integration/workers.h"
#include "merkle/signed_note.h"
#include "pg_cluster.h"
#include "test_util.h"
#include "unit/test_envelopes.h"

namespace infoflyt::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kAuditor = "auditor-eos-utvalget";

class PostgresDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // No PostgreSQL is a failure, not a skip: CI installs it (.ci/install-deps).
    const Status& cluster = PgCluster::Shared().status();
    ASSERT_TRUE(cluster.ok()) << cluster.message();
    ASSERT_TRUE(PgCluster::Shared().CreateDatabase(&database_).ok());
  }
  // The [store] section of a daemon on this test's database (the test cluster runs with fsync
  // off, which the daemon refuses unless told).
  std::string StoreConfig() const {
    return "backend = \"postgres\"\npostgres_conninfo = \"" +
           PgCluster::Shared().ConnInfo(database_) + "\"\n" + kAllowFsyncOff;
  }
  static constexpr const char* kAllowFsyncOff = "postgres_allow_fsync_off = true\n";
  // Starts `a`, then `b` with a's keys, both on this test's database.
  void StartTwo(TestDaemon& a, TestDaemon& b) {
    a.set_store_config(StoreConfig());
    b.set_store_config(StoreConfig());
    ASSERT_TRUE(a.Start()) << a.Log();
    b.CopyKeysFrom(a);
    ASSERT_TRUE(b.Start()) << b.Log();
  }
  // SELECT count(*) FROM `table_where` on this test's database; -1 on error.
  int64_t Count(const std::string& table_where) const {
    std::unique_ptr<PGconn, decltype(&PQfinish)> conn(
        PQconnectdb(PgCluster::Shared().ConnInfo(database_).c_str()), &PQfinish);
    std::unique_ptr<PGresult, decltype(&PQclear)> result(
        PQexec(conn.get(), ("SELECT count(*) FROM " + table_where).c_str()), &PQclear);
    if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
      ADD_FAILURE() << PQerrorMessage(conn.get());
      return -1;
    }
    return std::stoll(PQgetvalue(result.get(), 0, 0));
  }
  static v1::Receipt Post(TestDaemon& daemon, const v1::Envelope& envelope) {
    v1::Receipt receipt;
    const grpc::Status s = daemon.Client("correctional-oslo-fengsel")->Post(envelope, &receipt);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return receipt;
  }

  std::string database_;
};

TEST_F(PostgresDaemonTest, PostDeliverAckRestartAndVerifyTheLog) {
  TestDaemon daemon;
  daemon.set_store_config(StoreConfig());
  ASSERT_TRUE(daemon.Start()) << daemon.Log();
  EXPECT_NE(daemon.Log().find("store postgres"), std::string::npos) << daemon.Log();

  auto police = daemon.Client("police-oslo");
  const v1::Envelope notice = ReleaseNotice("pg-1");
  const v1::Receipt receipt = Post(daemon, notice);
  {
    Subscriber subscriber(police.get());
    ASSERT_TRUE(subscriber.WaitForMessage(receipt.message_id()));
    v1::AckResponse ack;
    ASSERT_TRUE(police->Ack({subscriber.deliveries().front().delivery_id()}, &ack).ok());
  }
  ASSERT_EQ(daemon.Terminate(), 0) << daemon.Log();
  ASSERT_TRUE(daemon.Start()) << daemon.Log();

  // Committed before the restart: the same receipt for the same key, the ack kept.
  const v1::Receipt again = Post(daemon, notice);
  EXPECT_TRUE(again.duplicate());
  EXPECT_EQ(again.message_id(), receipt.message_id());
  v1::MessageStatus status;
  ASSERT_TRUE(daemon.Client("correctional-oslo-fengsel")
                  ->GetMessageStatus(receipt.message_id(), &status)
                  .ok());
  ASSERT_EQ(status.recipients_size(), 2);
  EXPECT_TRUE(status.recipients(0).has_acknowledged_at());  // police/oslo

  const std::string dir = fs::path(daemon.db_path()).parent_path();
  CliResult r = daemon.Cli(kAuditor, "audit export --out " + dir + "/log.jsonl --checkpoint-out " +
                                         dir + "/checkpoint.txt");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  r = daemon.Cli(kAuditor, "audit verify --log " + dir + "/log.jsonl --checkpoint " + dir +
                               "/checkpoint.txt --key " + daemon.log_key_path() + ".pub");
  EXPECT_EQ(r.exit_code, 0) << r.out;
}

// A receipt promises the post survives a crash: a server that does not fsync is refused unless
// the operator says it is a test cluster, and the daemon logs the settings it read back.
TEST_F(PostgresDaemonTest, AServerWithoutFsyncIsRefusedUnlessAllowed) {
  TestDaemon daemon;
  daemon.set_store_config("backend = \"postgres\"\npostgres_conninfo = \"" +
                          PgCluster::Shared().ConnInfo(database_) + "\"\n");
  ASSERT_FALSE(daemon.Start());
  EXPECT_NE(daemon.Log().find("postgres: fsync is off: commits would not survive a crash"),
            std::string::npos)
      << daemon.Log();
  daemon.set_store_config(StoreConfig());
  ASSERT_TRUE(daemon.Start()) << daemon.Log();
  EXPECT_NE(
      daemon.Log().find("store postgres synchronous_commit=on fsync=off full_page_writes=off"),
      std::string::npos)
      << daemon.Log();
}

// The first step towards several daemons on one database: what one stored, the other serves.
TEST_F(PostgresDaemonTest, TwoDaemonsOnOneDatabaseShareMessagesAndKeys) {
  TestDaemon a;
  TestDaemon b;
  StartTwo(a, b);

  const v1::Envelope notice = ReleaseNotice("shared-1");
  const v1::Receipt receipt = Post(a, notice);
  // A retry that reaches the other daemon gets the first receipt.
  const v1::Receipt retry = Post(b, notice);
  EXPECT_TRUE(retry.duplicate());
  EXPECT_EQ(retry.message_id(), receipt.message_id());

  // A subscriber at the other daemon is sent the stored delivery and acknowledges it there.
  auto police = b.Client("police-oslo");
  Subscriber subscriber(police.get());
  ASSERT_TRUE(subscriber.WaitForMessage(receipt.message_id()));
  v1::AckResponse ack;
  ASSERT_TRUE(police->Ack({subscriber.deliveries().front().delivery_id()}, &ack).ok());
  EXPECT_EQ(ack.newly_acknowledged(), 1u);
  v1::MessageStatus status;
  ASSERT_TRUE(
      a.Client("correctional-oslo-fengsel")->GetMessageStatus(receipt.message_id(), &status).ok());
  EXPECT_TRUE(status.recipients(0).has_acknowledged_at());
}

// Daemons on one database must share the log key and the subject key: one with other keys
// refuses to start, naming the file that differs.
TEST_F(PostgresDaemonTest, ADaemonWithOtherKeysThanTheDatabaseRecordsRefusesToStart) {
  TestDaemon a;
  a.set_store_config(StoreConfig());
  ASSERT_TRUE(a.Start()) << a.Log();
  EXPECT_EQ(Count("shared_keys"), 1);

  // A daemon without keys makes none for a database that holds records: it names the file.
  TestDaemon b;
  b.set_store_config(StoreConfig());
  ASSERT_FALSE(b.Start());
  std::string log = b.Log();
  EXPECT_NE(log.find(b.subject_key_path() + " (the data-subject hash key) is missing"),
            std::string::npos)
      << log;
  EXPECT_FALSE(fs::exists(b.subject_key_path()));

  // Keys of its own: refused, naming the file that differs.
  std::unique_ptr<merkle::NoteSigner> other_log_key;
  const std::string verifier_key = ReadFile(a.log_key_path() + ".pub");
  ASSERT_TRUE(
      merkle::NoteSigner::Generate(verifier_key.substr(0, verifier_key.find('+')), &other_log_key)
          .ok());
  std::ofstream(b.log_key_path()) << other_log_key->PrivateKey() << "\n";
  std::ofstream(b.subject_key_path(), std::ios::binary) << std::string(32, 'k');
  ASSERT_FALSE(b.Start());
  log = b.Log();
  EXPECT_NE(log.find("log.key_file " + b.log_key_path() + " differs"), std::string::npos) << log;

  // The right log key, but still its own subject key.
  fs::copy_file(a.log_key_path(), b.log_key_path(), fs::copy_options::overwrite_existing);
  ASSERT_FALSE(b.Start());
  log = b.Log();
  EXPECT_NE(log.find("audit.subject_key_file " + b.subject_key_path() + " differs"),
            std::string::npos)
      << log;

  // The right subject key too, but no data key: none is made for a database that records one.
  fs::copy_file(a.subject_key_path(), b.subject_key_path(), fs::copy_options::overwrite_existing);
  ASSERT_FALSE(b.Start());
  log = b.Log();
  EXPECT_NE(log.find("store.data_key_file " + b.data_key_path() +
                     " (the data key, which opens "
                     "the stored message bodies) is missing"),
            std::string::npos)
      << log;
  EXPECT_FALSE(fs::exists(b.data_key_path()));
  // A data key of its own: refused, naming the key it lacks; nothing of it recorded.
  std::ofstream(b.data_key_path()) << std::string(64, 'a') << "\n";
  ASSERT_FALSE(b.Start());
  log = b.Log();
  EXPECT_NE(log.find("store.data_key_file " + b.data_key_path() + " lacks data key "),
            std::string::npos)
      << log;
  EXPECT_EQ(Count("data_keys"), 1);

  b.CopyKeysFrom(a);
  ASSERT_TRUE(b.Start()) << b.Log();
  EXPECT_EQ(Count("shared_keys"), 1);
  EXPECT_EQ(Count("data_keys"), 1);
  // And the first daemon restarts as before.
  ASSERT_EQ(a.Terminate(), 0);
  ASSERT_TRUE(a.Start()) << a.Log();
}

// One session on a database, for statements whose outcome is all that matters.
class Session {
 public:
  explicit Session(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str()), &PQfinish) {
    EXPECT_EQ(PQstatus(conn_.get()), CONNECTION_OK) << PQerrorMessage(conn_.get());
  }
  // "" if `sql` succeeded, else its SQLSTATE.
  std::string Run(const std::string& sql) {
    std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn_.get(), sql.c_str()),
                                                         &PQclear);
    const ExecStatusType status = PQresultStatus(result.get());
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return "";
    const char* state = PQresultErrorField(result.get(), PG_DIAG_SQLSTATE);
    return state != nullptr ? state : "?";
  }

 private:
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn_;
};

// deploy/postgres/roles.sql as the README says to use it: the owner role migrates, the daemons
// serve as infoflytd, and the database refuses that role any change to the disclosure log.
TEST_F(PostgresDaemonTest, TheDaemonRoleMayAppendToTheLogButNeitherChangeNorDeleteIt) {
  const std::string roles = INFOFLYT_SOURCE_DIR "/deploy/postgres/roles.sql";
  std::string out;
  ASSERT_TRUE(PgCluster::Shared().Psql("postgres", roles, &out).ok()) << out;
  ASSERT_TRUE(PgCluster::Shared().Psql("postgres", roles, &out).ok()) << out;  // Rerunnable.
  const std::string as_daemon = PgCluster::Shared().ConnInfo("infoflyt", "infoflytd");
  const std::string as_owner = PgCluster::Shared().ConnInfo("infoflyt", "infoflyt_owner");

  TestDaemon daemon;
  daemon.set_store_config("backend = \"postgres\"\npostgres_conninfo = \"" + as_daemon + "\"\n" +
                          kAllowFsyncOff);
  // The daemon role cannot make the schema, and says who can.
  ASSERT_FALSE(daemon.Start());
  EXPECT_NE(daemon.Log().find("infoflytd --migrate-only"), std::string::npos) << daemon.Log();
  const CliResult migrated =
      daemon.RunOnce("--migrate-only --postgres-conninfo '" + as_owner + "'");
  ASSERT_EQ(migrated.exit_code, 0) << migrated.out;
  ASSERT_TRUE(daemon.Start()) << daemon.Log();

  // Serving as infoflytd: posts append, acknowledgements update deliveries.
  const v1::Receipt receipt = Post(daemon, ReleaseNotice("roles-1"));
  auto police = daemon.Client("police-oslo");
  {
    Subscriber subscriber(police.get());
    ASSERT_TRUE(subscriber.WaitForMessage(receipt.message_id()));
    v1::AckResponse ack;
    ASSERT_TRUE(police->Ack({subscriber.deliveries().front().delivery_id()}, &ack).ok());
  }

  Session session(as_daemon);
  constexpr const char* kDenied = "42501";  // insufficient_privilege
  for (const std::string table : {"disclosures", "merkle_nodes", "checkpoints"}) {
    const std::string first = table == "disclosures"    ? "leaf_index = 0"
                              : table == "merkle_nodes" ? "level = 0 AND idx = 0"
                                                        : "true";
    EXPECT_EQ(session.Run("UPDATE " + table + " SET " +
                          (table == "disclosures"    ? "reason = 'rewritten'"
                           : table == "merkle_nodes" ? "hash = hash"
                                                     : "root = root") +
                          " WHERE " + first),
              kDenied)
        << table;
    EXPECT_EQ(session.Run("DELETE FROM " + table + " WHERE " + first), kDenied) << table;
    EXPECT_EQ(session.Run("TRUNCATE " + table), kDenied) << table;
  }
  // INSERT is what the daemon does; shown here in a transaction rolled back, since a record
  // appended behind the daemon's back would not be a leaf of the log.
  ASSERT_EQ(session.Run("BEGIN"), "");
  EXPECT_EQ(session.Run("INSERT INTO disclosures SELECT leaf_index + 1000000, occurred_at, event, "
                        "outcome, message_id, delivery_id, sender, recipient, subject_hash, "
                        "message_type, legal_basis, legal_citation, handling, view, "
                        "content_hash, reason, sender_certificate_subject, "
                        "sender_certificate_fingerprint, instance, version FROM disclosures "
                        "WHERE leaf_index = 0"),
            "");
  EXPECT_EQ(session.Run("ROLLBACK"), "");
  // The owner may not change records either: the triggers refuse (restrict_violation).
  EXPECT_EQ(Session(as_owner).Run("UPDATE disclosures SET reason = 'x' WHERE leaf_index = 0"),
            "23001");

  // The log is intact and verifies.
  const std::string dir = fs::path(daemon.db_path()).parent_path();
  CliResult r = daemon.Cli(kAuditor, "audit export --out " + dir + "/log.jsonl --checkpoint-out " +
                                         dir + "/checkpoint.txt");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  r = daemon.Cli(kAuditor, "audit verify --log " + dir + "/log.jsonl --checkpoint " + dir +
                               "/checkpoint.txt --key " + daemon.log_key_path() + ".pub");
  EXPECT_EQ(r.exit_code, 0) << r.out;
}

// A live stream at one daemon is woken by a post through another (LISTEN/NOTIFY): the
// subscriber stays connected and gets the message at once, not when it next reconnects.
TEST_F(PostgresDaemonTest, APostThroughOneDaemonReachesALiveSubscriberOfAnother) {
  TestDaemon a;
  TestDaemon b;
  StartTwo(a, b);
  EXPECT_NE(b.Log().find("listening for other daemons' commits"), std::string::npos) << b.Log();
  auto police = b.Client("police-oslo");
  Subscriber subscriber(police.get());
  // The stream is live once it has delivered something posted through its own daemon.
  const v1::Receipt first = Post(b, ReleaseNotice("live-0"));
  ASSERT_TRUE(subscriber.WaitForMessage(first.message_id()));
  for (int i = 1; i <= 3; ++i) {
    // Idle a while first: nothing but the notification can wake the stream.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const auto start = std::chrono::steady_clock::now();
    const v1::Receipt receipt = Post(a, ReleaseNotice("live-" + std::to_string(i)));
    ASSERT_TRUE(subscriber.WaitForMessage(receipt.message_id(), std::chrono::seconds(2)))
        << "post " << i << " through daemon A did not reach the subscriber at daemon B\n"
        << b.Log();
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  }
  // One stream throughout: it never ended, so nothing came by reconnecting.
  EXPECT_FALSE(subscriber.WaitEnded(std::chrono::seconds(0)));
  EXPECT_EQ(subscriber.deliveries().size(), 4u);
}

// Escalation with two daemons on one database (see escalation_test.cc for one daemon).
class PostgresEscalationTest : public PostgresDaemonTest {
 protected:
  static constexpr int kDeadlineSeconds = 3;

  void SetUp() override {
    PostgresDaemonTest::SetUp();
    for (TestDaemon* d : {&a_, &b_}) {
      d->set_extra_config("[acknowledgement.return_notice]\nwithin = \"" +
                          std::to_string(kDeadlineSeconds) + "s\"\n");
    }
    StartTwo(a_, b_);
  }

  // PST tells Oslo (and the Oslo police district) through `daemon` that a person has returned.
  static v1::Receipt PostReturnNotice(TestDaemon& daemon, const std::string& key) {
    v1::Receipt receipt;
    EXPECT_TRUE(
        daemon.Client("pst-pst")->Post(ReturnNotice(key, kOtherValidFnr, "0301"), &receipt).ok());
    EXPECT_EQ(std::vector<std::string>(receipt.recipients().begin(), receipt.recipients().end()),
              (std::vector<std::string>{"municipality/0301", "police/oslo"}));
    return receipt;
  }

  // Escalation notices about `message_id` that `party` is sent by `daemon`, read from the start
  // until `expect` have come or `wait` has passed.
  static std::vector<v1::Delivery> EscalationsSeenBy(TestDaemon& daemon, const std::string& party,
                                                     const std::string& message_id, size_t expect,
                                                     std::chrono::seconds wait) {
    auto client = daemon.Client(party);
    Subscriber sub(client.get(), 1);
    std::vector<v1::Delivery> found;
    const auto until = std::chrono::steady_clock::now() + wait;
    do {
      sub.WaitFor(found.size() + 1, std::chrono::seconds(1));
      found.clear();
      for (const auto& d : sub.deliveries()) {
        if (d.envelope().has_escalation_notice() &&
            d.envelope().escalation_notice().message_id() == message_id) {
          found.push_back(d);
        }
      }
    } while (found.size() < expect && std::chrono::steady_clock::now() < until);
    return found;
  }

  // Escalation messages stored for the municipality's delivery of `message_id`.
  int64_t EscalationMessages(const std::string& message_id) const {
    return Count(
        "messages WHERE sender = 'infoflytd' AND idempotency_key = (SELECT 'escalation-' || d.id "
        "FROM deliveries d JOIN messages m ON m.id = d.message WHERE m.message_id = '" +
        message_id + "' AND d.recipient = 'municipality/0301')");
  }

  static int Escalated(const TestDaemon& daemon) {
    return CountOccurrences(daemon.Log(), "escalated delivery=");
  }

  TestDaemon a_;
  TestDaemon b_;
};

// Both daemons watch the deadline (b_ learns it from a_'s notification) and race for it; the
// store lets one win, so each party is told once.
TEST_F(PostgresEscalationTest, WhileBothRunAMissedDeadlineIsEscalatedOnce) {
  const v1::Receipt receipt = PostReturnNotice(a_, "both-running");
  using std::chrono::seconds;
  const auto police = EscalationsSeenBy(a_, "police-oslo", receipt.message_id(), 1, seconds(15));
  const auto pst = EscalationsSeenBy(b_, "pst-pst", receipt.message_id(), 1, seconds(5));
  ASSERT_EQ(police.size(), 1u) << a_.Log() << "\n" << b_.Log();
  ASSERT_EQ(pst.size(), 1u) << a_.Log() << "\n" << b_.Log();
  EXPECT_EQ(police[0].envelope().escalation_notice().municipality(), "municipality/0301");
  // Give a second escalation every chance to appear, then look everywhere for it.
  std::this_thread::sleep_for(seconds(2));
  EXPECT_EQ(EscalationsSeenBy(b_, "police-oslo", receipt.message_id(), 2, seconds(1)).size(), 1u);
  EXPECT_EQ(EscalationsSeenBy(a_, "pst-pst", receipt.message_id(), 2, seconds(1)).size(), 1u);
  EXPECT_EQ(EscalationMessages(receipt.message_id()), 1);
  EXPECT_EQ(Count("disclosures WHERE event = 'escalate'"), 2);  // One per recipient.
  EXPECT_EQ(Escalated(a_) + Escalated(b_), 1) << a_.Log() << "\n" << b_.Log();
}

// A deadline stored through a daemon that dies before it is due is escalated by the other,
// which learnt it from the dead daemon's notification.
TEST_F(PostgresEscalationTest, ADeadlineStoredByADaemonThatDiedIsEscalatedByAnother) {
  const v1::Receipt receipt = PostReturnNotice(a_, "a-dies");
  a_.Kill();
  using std::chrono::seconds;
  const auto police = EscalationsSeenBy(b_, "police-oslo", receipt.message_id(), 1, seconds(15));
  ASSERT_EQ(police.size(), 1u) << b_.Log();
  EXPECT_EQ(EscalationsSeenBy(b_, "pst-pst", receipt.message_id(), 1, seconds(5)).size(), 1u);
  EXPECT_EQ(Escalated(b_), 1) << b_.Log();
  EXPECT_EQ(EscalationMessages(receipt.message_id()), 1);
}

// PostgreSQL stops mid-stream (fast shutdown) and comes back on the same port: posts in flight
// fail as UNAVAILABLE and are retried with their keys; no receipt is given for anything not
// committed; both daemons reconnect by themselves (stores, readers and listeners); nothing
// receipted is lost, and the log still verifies.
TEST_F(PostgresDaemonTest, ADatabaseRestartFailsPostsAsUnavailableAndLosesNothing) {
  constexpr int kPosts = 160;
  constexpr int kPostsBeforeStop = 50;
  TestDaemon a;
  TestDaemon b;
  StartTwo(a, b);
  auto to_a = a.Client("correctional-oslo-fengsel");
  auto to_b = b.Client("correctional-oslo-fengsel");
  // A live stream at b that nothing wakes during the outage (no post is for it), so it must
  // come through it and be woken by a post through a afterwards.
  auto vest = b.Client("police-vest");
  Subscriber subscriber(vest.get());

  std::mutex mu;
  std::set<std::string> receipted;
  std::map<grpc::StatusCode, int> failures;
  std::string last_error;
  int duplicates = 0;  // Retries answered with the receipt of a commit whose answer was lost.
  std::atomic<int> done{0};
  Workers poster;
  poster.Add([&] {
    for (int i = 0; i < kPosts && !poster.stopping(); ++i) {
      client::ExchangeClient* via = i % 2 ? to_a.get() : to_b.get();
      const v1::Envelope envelope = ReleaseNotice("fault-" + std::to_string(i));
      // Retried with the same key, as clients are told to, until it is receipted.
      for (int attempt = 0; attempt < 500 && !poster.stopping(); ++attempt) {
        v1::Receipt receipt;
        const grpc::Status s = via->Post(envelope, &receipt);
        std::lock_guard lock(mu);
        if (s.ok()) {
          receipted.insert(receipt.message_id());
          duplicates += receipt.duplicate();
          break;
        }
        ++failures[s.error_code()];
        last_error = s.error_message();
        if (s.error_code() != grpc::StatusCode::UNAVAILABLE) break;
        mu.unlock();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        mu.lock();
      }
      ++done;
    }
  });
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (done < kPostsBeforeStop && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_GE(done.load(), kPostsBeforeStop) << "posting stalled before the outage";
  ASSERT_TRUE(PgCluster::Shared().StopServer().ok());
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const Status restarted = PgCluster::Shared().RestartServer();
  // Not stopped: every post is retried until the database is back and it is receipted.
  while (done < kPosts && std::chrono::steady_clock::now() < until + std::chrono::seconds(60)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  poster.StopAndJoin();
  ASSERT_TRUE(restarted.ok()) << restarted.message();

  std::lock_guard lock(mu);
  EXPECT_EQ(receipted.size(), static_cast<size_t>(kPosts)) << last_error;
  std::cerr << "posts failed as UNAVAILABLE and retried: "
            << failures[grpc::StatusCode::UNAVAILABLE]
            << "; retries answered as duplicates: " << duplicates << "\n";
  EXPECT_GT(failures[grpc::StatusCode::UNAVAILABLE], 0) << "the outage went unnoticed";
  for (const auto& [code, n] : failures) {
    EXPECT_EQ(code, grpc::StatusCode::UNAVAILABLE) << n << " failed otherwise: " << last_error;
  }
  // Every receipt names a stored message, and every post is stored once.
  std::string ids;
  for (const std::string& id : receipted) ids += (ids.empty() ? "'" : ",'") + id + "'";
  EXPECT_EQ(Count("messages WHERE message_id IN (" + ids + ")"), kPosts);
  EXPECT_EQ(Count("messages"), kPosts);
  EXPECT_EQ(Count("disclosures WHERE event <> 'policy'"), 2 * kPosts);
  EXPECT_EQ(Count("disclosures WHERE event = 'policy'"), 2);  // One per daemon start.

  // Neither daemon was restarted; both serve, and b's stream is woken by a post through a.
  ASSERT_TRUE(a.running() && b.running());
  const v1::Receipt bergen = Post(a, ReleaseNotice("after-restart", kValidFnr, "4601"));
  EXPECT_TRUE(subscriber.WaitForMessage(bergen.message_id(), std::chrono::seconds(5))) << b.Log();
  EXPECT_FALSE(subscriber.WaitEnded(std::chrono::seconds(0)))
      << subscriber.status().error_message();
  EXPECT_NE(b.Log().find("listening for commits again"), std::string::npos) << b.Log();

  const std::string dir = fs::path(a.db_path()).parent_path();
  CliResult r = a.Cli(kAuditor, "audit export --out " + dir + "/log.jsonl --checkpoint-out " + dir +
                                    "/checkpoint.txt");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  r = a.Cli(kAuditor, "audit verify --log " + dir + "/log.jsonl --checkpoint " + dir +
                          "/checkpoint.txt --key " + a.log_key_path() + ".pub");
  EXPECT_EQ(r.exit_code, 0) << r.out;
}

}  // namespace
}  // namespace infoflyt::testing
