// Store conformance: behaviour every Store implementation must have, run on each backend (a
// real SQLite file; a real PostgreSQL database in a throwaway cluster). Tests that only make
// sense for one backend are TEST_Fs on SqliteStoreTest or PgStoreTest.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <barrier>
#include <filesystem>
#include <thread>

#include "base/crypto.h"
#include "merkle/compact_range.h"
#include "merkle/merkle_hash.h"
#include "merkle/proof.h"
#include "merkle/record_leaf.h"
#include "merkle/signed_note.h"
#include "pg_cluster.h"
#include "server/log_scrub.h"
#include "small_tmpfs.h"
#include "store/group_committer.h"
#include "store/pg_conn.h"
#include "store/pg_store.h"
#include "store/sqlite_store.h"
#include "test_data_keys.h"
#include "test_util.h"

namespace infoflyt {
namespace {

namespace fs = std::filesystem;
using ::infoflyt::testing::PgCluster;

enum class Backend { kSqlite, kPostgres };

class StoreTestBase : public ::testing::Test {
 protected:
  void SetUpBackend(Backend backend) {
    backend_ = backend;
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(name.begin(), name.end(), '/', '_');
    dir_ =
        fs::temp_directory_path() / ("infoflyt-store-" + std::to_string(::getpid()) + "-" + name);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    if (backend_ == Backend::kPostgres) {
      // No PostgreSQL is a failure, not a skip: CI installs it (.ci/install-deps).
      const Status& cluster = PgCluster::Shared().status();
      ASSERT_TRUE(cluster.ok()) << cluster.message();
      const Status s = PgCluster::Shared().CreateDatabase(&database_);
      ASSERT_TRUE(s.ok()) << s.message();
    }
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  // A new store on this test's database, as another daemon would open it.
  Status OpenStore(std::unique_ptr<Store>* out, int readers = 2) {
    if (backend_ == Backend::kSqlite) {
      std::unique_ptr<SqliteStore> store;
      Status s = SqliteStore::Open({(dir_ / "db").string(), "test", "0", readers}, &store);
      if (s.ok()) store->SetDataKeys(testing::TestDataKeys());
      *out = std::move(store);
      return s;
    }
    std::unique_ptr<PgStore> store;
    // The test cluster runs with fsync off (tests/pg_cluster.h).
    Status s = PgStore::Open({.conninfo = ConnInfo(),
                              .instance = "test",
                              .version = "0",
                              .readers = readers,
                              .allow_fsync_off = true},
                             &store);
    if (s.ok()) store->SetDataKeys(testing::TestDataKeys());
    *out = std::move(store);
    return s;
  }
  void Reopen() {
    store_.reset();
    const Status s = OpenStore(&store_);
    ASSERT_TRUE(s.ok()) << s.message();
  }
  std::string ConnInfo() const { return PgCluster::Shared().ConnInfo(database_); }

  // Runs `sql` on a connection of its own, as an administrator (or an intruder) would.
  Status ExecRaw(const std::string& sql) {
    if (backend_ == Backend::kSqlite) {
      sqlite3* db = nullptr;
      sqlite3_open((dir_ / "db").c_str(), &db);
      char* error = nullptr;
      const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
      Status s = rc == SQLITE_OK ? Status::Ok()
                                 : Status(Code::kUnavailable, error ? error : "sqlite error");
      sqlite3_free(error);
      sqlite3_close(db);
      return s;
    }
    std::unique_ptr<PgConn> conn;
    if (Status s = PgConn::Connect(ConnInfo(), "", nullptr, &conn); !s.ok()) return s;
    return conn->Exec(sql.c_str());
  }
  // Expects `sql`, run as an administrator, to be refused by the store's triggers for `why`
  // (and by nothing else: not a typo, not a missing table).
  void ExpectRefusedByTrigger(const std::string& sql, const std::string& why) {
    const Status s = ExecRaw(sql);
    EXPECT_NE(s.message().find(why), std::string::npos) << sql << ": " << s.message();
    if (backend_ == Backend::kPostgres) {
      EXPECT_NE(s.message().find("(SQLSTATE 23001)"), std::string::npos)
          << sql << ": " << s.message();
    }
  }
  // SELECT count(*) FROM `table_where` (a table and, optionally, a WHERE clause).
  int64_t Count(const std::string& table_where) {
    const std::string sql = "SELECT count(*) FROM " + table_where;
    if (backend_ == Backend::kSqlite) {
      sqlite3* db = nullptr;
      sqlite3_open((dir_ / "db").c_str(), &db);
      sqlite3_stmt* stmt = nullptr;
      sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr);
      sqlite3_step(stmt);
      const int64_t n = sqlite3_column_int64(stmt, 0);
      sqlite3_finalize(stmt);
      sqlite3_close(db);
      return n;
    }
    std::unique_ptr<PgConn> conn;
    PgResult result;
    Status s = PgConn::Connect(ConnInfo(), "", nullptr, &conn);
    if (s.ok()) s = conn->QueryOnce(sql, {}, &result);
    EXPECT_TRUE(s.ok()) << s.message();
    return s.ok() ? result.Int(0, 0) : -1;
  }
  // Makes the stored schema version one this binary does not know.
  Status MarkSchemaNewer() {
    return ExecRaw(backend_ == Backend::kSqlite ? "PRAGMA user_version = 99"
                                                : "UPDATE schema_version SET version = 99");
  }

  static NewMessage Message(const std::string& id, const std::string& key,
                            const std::vector<std::string>& recipients = {"police/oslo", "pst/pst"},
                            const std::vector<std::string>& refused = {}) {
    NewMessage m;
    m.message_id = id;
    m.sender = "correctional/oslo-fengsel";
    m.idempotency_key = key;
    m.request_hash = "hash-" + key;
    m.message_type = "release_notice";
    m.legal_basis = "strgjfl-4i";
    m.legal_citation = "straffegjennomføringsloven § 4 i";
    m.handling = "TLP_AMBER";
    m.subject_hash = "subject";
    m.sender_certificate_subject = "CN=oslo-fengsel";
    m.sender_certificate_fingerprint = "ab12";
    for (const auto& r : recipients)
      m.recipients.push_back({r, "envelope-" + id, "*", "h-" + id, "", "", "", "", std::nullopt});
    for (const auto& r : refused) m.refusals.push_back({r, "not allowed", ""});
    return m;
  }

  // Applies ops as one batch; returns the transaction status.
  static Status ApplyTo(Store& store, std::vector<WriteOp>& ops, int64_t now = 1000) {
    std::vector<WriteOp*> ptrs;
    ptrs.reserve(ops.size());
    for (auto& op : ops) ptrs.push_back(&op);
    return store.Apply(ptrs, now);
  }
  Status Apply(std::vector<WriteOp>& ops, int64_t now = 1000) { return ApplyTo(*store_, ops, now); }
  static PostOp PostTo(Store& store, NewMessage m, int64_t now = 1000) {
    std::vector<WriteOp> ops{PostOp{std::move(m), {}, {}}};
    EXPECT_TRUE(ApplyTo(store, ops, now).ok());
    return std::get<PostOp>(ops[0]);
  }
  PostOp Post(NewMessage m, int64_t now = 1000) { return PostTo(*store_, std::move(m), now); }
  AckOp Ack(const std::string& party, std::vector<uint64_t> ids) {
    std::vector<WriteOp> ops{AckOp{party, std::move(ids), {}, 0, "CN=" + party, "ab"}};
    EXPECT_TRUE(Apply(ops).ok());
    return std::get<AckOp>(ops[0]);
  }
  // The shipped catalogue: its [registry] rules and "flag" flows.
  static std::shared_ptr<const LegalBasisCatalogue> Rules() {
    auto rules = std::make_shared<LegalBasisCatalogue>();
    EXPECT_TRUE(
        LegalBasisCatalogue::Parse(testing::ReadSourceFile("deploy/legal-bases.toml"), rules.get())
            .ok());
    return rules;
  }
  static RegistryCaller As(const std::string& party) {
    return {party, *KindOfKey(party), "CN=" + party, std::string(64, 'a')};
  }
  // Party `by` flags `subject` citing `basis`.
  FlagOp Flag(const std::string& by, const std::string& flag_id, const std::string& subject,
              const std::string& basis = "polregl-27-1") {
    FlagOp op;
    op.flag.flag_id = flag_id;
    op.flag.reason = "RETURNED_FOREIGN_FIGHTER";
    op.flag.flagged_by = by;
    op.flag.legal_basis = basis;
    op.subject_hash = subject;
    op.caller = As(by);
    op.legal_citation = "citation of " + basis;
    std::vector<WriteOp> ops{op};
    EXPECT_TRUE(Apply(ops).ok());
    return std::get<FlagOp>(ops[0]);
  }
  UnflagOp Unflag(const std::string& by, const std::string& flag_id) {
    std::vector<WriteOp> ops{UnflagOp{flag_id, As(by), Rules(), {}, {}}};
    EXPECT_TRUE(Apply(ops).ok());
    return std::get<UnflagOp>(ops[0]);
  }
  ListFlagsOp Lookup(const std::string& by, const std::string& subject,
                     bool include_inactive = false) {
    ListFlagsOp op;
    op.subject_hash = subject;
    op.include_inactive = include_inactive;
    op.reason = "Registry/ListFlags";
    op.caller = As(by);
    op.rules = Rules();
    std::vector<WriteOp> ops{op};
    EXPECT_TRUE(Apply(ops, 2000).ok());
    return std::get<ListFlagsOp>(ops[0]);
  }
  static std::vector<std::string> IdsOf(const std::vector<FlagInfo>& flags) {
    std::vector<std::string> ids;
    for (const FlagInfo& f : flags) ids.push_back(f.flag_id);
    return ids;
  }

  // A whole reseal pass (ResealOp); the number of envelopes resealed.
  size_t Reseal(bool in_clear) {
    size_t resealed = 0;
    uint64_t after = 0;
    do {
      ResealOp op;
      op.after = after;
      op.limit = 2;  // More than one batch.
      op.in_clear = in_clear;
      std::vector<WriteOp> ops{op};
      EXPECT_TRUE(Apply(ops).ok());
      const ResealOp& done = std::get<ResealOp>(ops[0]);
      EXPECT_TRUE(done.status.ok()) << done.status.message();
      if (!done.status.ok()) break;
      resealed += done.resealed;
      after = done.next;
    } while (after != 0);
    return resealed;
  }
  // Stored envelopes holding `text` in clear, read as an intruder would.
  int64_t EnvelopesHolding(const std::string& text) {
    return Count(backend_ == Backend::kSqlite
                     ? "deliveries WHERE instr(envelope, '" + text + "') > 0"
                     : "deliveries WHERE position('" + text + "'::bytea in envelope) > 0");
  }
  // After an upgrade: the envelope in clear is not served until a pass seals it (in_clear).
  void ExpectInClearSealedOnlyWhenAsked() {
    EXPECT_TRUE(Read("police/oslo").at(0).unreadable);
    EXPECT_EQ(Reseal(false), 0u);
    EXPECT_EQ(Reseal(true), 2u);  // Both recipients' copies: stored before sharing.
    EXPECT_EQ(EnvelopesHolding("envelope-m1"), 0);
  }

  // The shipped catalogue with its [retention] defaults replaced: retain 10 s, retain_max 100 s.
  static std::shared_ptr<const LegalBasisCatalogue> ShortRetention() {
    std::string text = testing::ReadSourceFile("deploy/legal-bases.toml");
    const std::string shipped = "[retention]\nretain = \"30d\"\nretain_max = \"180d\"\n";
    EXPECT_NE(text.find(shipped), std::string::npos);
    text.replace(text.find(shipped), shipped.size(),
                 "[retention]\nretain = \"10s\"\nretain_max = \"100s\"\n");
    auto rules = std::make_shared<LegalBasisCatalogue>();
    EXPECT_TRUE(LegalBasisCatalogue::Parse(text, rules.get()).ok());
    return rules;
  }
  // A whole purge pass (PurgeOp, batches of one message) at `now`: {messages, flags} erased.
  std::pair<size_t, size_t> Purge(int64_t now) {
    const auto rules = ShortRetention();
    std::pair<size_t, size_t> erased;
    uint64_t after = 0;
    do {
      PurgeOp op;
      op.after = after;
      op.limit = 1;
      op.rules = rules;
      std::vector<WriteOp> ops{op};
      EXPECT_TRUE(Apply(ops, now).ok());
      const PurgeOp& done = std::get<PurgeOp>(ops[0]);
      EXPECT_TRUE(done.status.ok()) << done.status.message();
      if (!done.status.ok()) break;
      erased.first += done.erased_messages;
      erased.second += done.erased_flags;
      after = done.next;
    } while (after != 0);
    return erased;
  }

  std::vector<StoredDelivery> Read(const std::string& party, uint64_t from = 0,
                                   bool unacked = true) {
    std::vector<StoredDelivery> out;
    EXPECT_TRUE(store_->ReadDeliveries(party, from, unacked, 100, &out).ok());
    return out;
  }

  // Signs nothing: the "note" names size and root, enough to check what was committed to.
  static StoredCheckpoint CheckpointOf(Store& store, int64_t now = 2000) {
    CheckpointOp op;
    op.sign = [](uint64_t size, const std::string& root, std::string* note) {
      *note = std::to_string(size) + ":" + root;
      return Status::Ok();
    };
    std::vector<WriteOp> ops{std::move(op)};
    EXPECT_TRUE(ApplyTo(store, ops, now).ok());
    EXPECT_TRUE(std::get<CheckpointOp>(ops[0]).status.ok())
        << std::get<CheckpointOp>(ops[0]).status.message();
    return std::get<CheckpointOp>(ops[0]).checkpoint;
  }
  StoredCheckpoint Checkpoint(int64_t now = 2000) { return CheckpointOf(*store_, now); }
  std::vector<LogEntry> WholeLog() {
    std::vector<LogEntry> log;
    EXPECT_TRUE(store_->ReadLog(0, store_->LogSize(), 100000, &log).ok());
    return log;
  }
  // The root of the first `size` records, computed from the records themselves.
  static std::string RootOfRecords(const std::vector<LogEntry>& log, uint64_t size) {
    merkle::CompactRange range;
    std::vector<merkle::Node> ignored;
    for (uint64_t i = 0; i < size; ++i) {
      EXPECT_TRUE(range.Append(merkle::RecordLeafHash(log[i].record), &ignored).ok());
    }
    return range.Root();
  }

  Backend backend_ = Backend::kSqlite;
  fs::path dir_;          // SQLite's database file.
  std::string database_;  // PostgreSQL's database, in the shared cluster.
  std::unique_ptr<Store> store_;
};

// The conformance suite: every TEST_P runs on both backends.
class StoreTest : public StoreTestBase, public ::testing::WithParamInterface<Backend> {
 protected:
  void SetUp() override { SetUpBackend(GetParam()); }
};

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const ::testing::TestParamInfo<Backend>& param) {
                           return param.param == Backend::kSqlite ? "Sqlite" : "Postgres";
                         });

class SqliteStoreTest : public StoreTestBase {
 protected:
  void SetUp() override { SetUpBackend(Backend::kSqlite); }
  // Reopens the store waking its checkpointer at `checkpoint_pages` WAL pages.
  Status ReopenCheckpointingAt(int checkpoint_pages) {
    store_.reset();
    SqliteStoreOptions options{(dir_ / "db").string(), "test", "0", 1};
    options.checkpoint_pages = checkpoint_pages;
    std::unique_ptr<SqliteStore> store;
    Status s = SqliteStore::Open(options, &store);
    if (s.ok()) store->SetDataKeys(testing::TestDataKeys());
    store_ = std::move(store);
    return s;
  }
};

class PgStoreTest : public StoreTestBase {
 protected:
  void SetUp() override { SetUpBackend(Backend::kPostgres); }
};

TEST_P(StoreTest, PostStoresOneDeliveryAndOneDisclosurePerRecipient) {
  const PostOp op = Post(Message("m1", "k1"));
  ASSERT_TRUE(op.status.ok());
  EXPECT_FALSE(op.receipt.duplicate);
  EXPECT_EQ(op.receipt.recipients, (std::vector<std::string>{"police/oslo", "pst/pst"}));
  EXPECT_EQ(Count("messages"), 1);
  EXPECT_EQ(Count("deliveries"), 2);
  EXPECT_EQ(Count("disclosures"), 2);
}

TEST_P(StoreTest, SameIdempotencyKeyReturnsTheFirstReceiptAndStoresNothing) {
  Post(Message("m1", "k1"), 1000);
  const PostOp again = Post(Message("m2", "k1"), 2000);
  ASSERT_TRUE(again.status.ok());
  EXPECT_TRUE(again.receipt.duplicate);
  EXPECT_EQ(again.receipt.message_id, "m1");
  EXPECT_EQ(again.receipt.accepted_at, 1000);
  EXPECT_EQ(Count("messages"), 1);
  EXPECT_EQ(Count("disclosures"), 2);
}

TEST_P(StoreTest, ReusedKeyForADifferentMessageIsRefused) {
  Post(Message("m1", "k1"));
  NewMessage other = Message("m2", "k1");
  other.request_hash = "different";
  const PostOp op = Post(other);
  EXPECT_EQ(op.status.code(), Code::kFailedPrecondition);
  EXPECT_EQ(Count("messages"), 1);
}

TEST_P(StoreTest, DuplicateWithinOneBatchIsDetected) {
  std::vector<WriteOp> ops{PostOp{Message("m1", "k1"), {}, {}},
                           PostOp{Message("m2", "k1"), {}, {}}};
  ASSERT_TRUE(Apply(ops).ok());
  EXPECT_TRUE(std::get<PostOp>(ops[1]).receipt.duplicate);
  EXPECT_EQ(std::get<PostOp>(ops[1]).receipt.message_id, "m1");
  EXPECT_EQ(Count("messages"), 1);
}

TEST_P(StoreTest, DeliveriesComeInOrderPerRecipientAndAcksHideThem) {
  Post(Message("m1", "k1"));
  Post(Message("m2", "k2", {"pst/pst"}));
  Post(Message("m3", "k3"));
  auto oslo = Read("police/oslo");
  ASSERT_EQ(oslo.size(), 2u);
  EXPECT_EQ(oslo[0].message_id, "m1");
  EXPECT_EQ(oslo[1].message_id, "m3");
  EXPECT_LT(oslo[0].delivery_id, oslo[1].delivery_id);
  EXPECT_EQ(oslo[0].envelope, "envelope-m1");
  EXPECT_EQ(oslo[0].sender, "correctional/oslo-fengsel");

  const AckOp ack = Ack("police/oslo", {oslo[0].delivery_id});
  ASSERT_TRUE(ack.status.ok());
  EXPECT_EQ(ack.newly_acknowledged, 1u);
  EXPECT_EQ(Ack("police/oslo", {oslo[0].delivery_id}).newly_acknowledged, 0u);  // Idempotent.
  // Exactly one record, naming the record of the delivery it acknowledges; no content.
  std::vector<v1::DisclosureRecord> acks;
  RecordFilter filter;
  filter.outcome = "acknowledged";
  ASSERT_TRUE(store_->QueryRecords(filter, 0, 10, &acks).ok());
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].event(), "acknowledge");
  EXPECT_EQ(acks[0].message_id(), "m1");
  EXPECT_EQ(acks[0].delivery_id(), oslo[0].delivery_id);
  EXPECT_EQ(acks[0].sender(), "police/oslo");
  EXPECT_EQ(acks[0].recipient(), "correctional/oslo-fengsel");
  EXPECT_EQ(acks[0].sender_certificate_subject(), "CN=police/oslo");
  EXPECT_TRUE(acks[0].content_hash().empty());
  filter.outcome = "disclosed";
  filter.party = "police/oslo";
  std::vector<v1::DisclosureRecord> disclosed;
  ASSERT_TRUE(store_->QueryRecords(filter, 0, 10, &disclosed).ok());
  ASSERT_FALSE(disclosed.empty());
  EXPECT_EQ(acks[0].reason(), "acknowledges record " + std::to_string(disclosed[0].index()));
  EXPECT_EQ(acks[0].subject_hash(), disclosed[0].subject_hash());
  // Status and a retry's receipt still name the message's recipients only.
  MessageState state;
  ASSERT_TRUE(store_->GetMessageState("m1", "correctional/oslo-fengsel", &state).ok());
  EXPECT_EQ(state.recipients.size(), 2u);
  EXPECT_EQ(Post(Message("m1-again", "k1")).receipt.recipients,
            (std::vector<std::string>{"police/oslo", "pst/pst"}));
  auto unacked = Read("police/oslo");
  ASSERT_EQ(unacked.size(), 1u);
  EXPECT_EQ(unacked[0].message_id, "m3");
  auto replay = Read("police/oslo", oslo[0].delivery_id, false);
  ASSERT_EQ(replay.size(), 2u);
  EXPECT_TRUE(replay[0].acknowledged);
  EXPECT_FALSE(replay[1].acknowledged);
  EXPECT_EQ(Read("pst/pst").size(), 3u);
}

TEST_P(StoreTest, TheInboxListsUnacknowledgedFirstEachNewestFirst) {
  Post(Message("m1", "k1"));
  Post(Message("m2", "k2"));
  Post(Message("m3", "k3"));
  Post(Message("m4", "k4", {"pst/pst"}));  // Not for police/oslo.
  const auto oslo = Read("police/oslo");
  ASSERT_EQ(oslo.size(), 3u);
  ASSERT_TRUE(Ack("police/oslo", {oslo[1].delivery_id}).status.ok());
  std::vector<StoredDelivery> inbox;
  ASSERT_TRUE(store_->ReadInbox("police/oslo", 10, &inbox).ok());
  std::vector<std::string> order;
  for (const StoredDelivery& d : inbox) {
    order.push_back(d.message_id + (d.acknowledged ? "+acked" : ""));
    EXPECT_EQ(d.envelope, "envelope-" + d.message_id);  // Opened, as ReadDeliveries gives them.
  }
  EXPECT_EQ(order, (std::vector<std::string>{"m3", "m1", "m2+acked"}));
  // At most `limit` of each kind.
  inbox.clear();
  ASSERT_TRUE(store_->ReadInbox("police/oslo", 1, &inbox).ok());
  ASSERT_EQ(inbox.size(), 2u);
  EXPECT_EQ(inbox[0].message_id, "m3");
  EXPECT_EQ(inbox[1].message_id, "m2");
}

TEST_P(StoreTest, AckOfAnotherPartysDeliveryChangesNothing) {
  Post(Message("m1", "k1"));
  const auto pst = Read("pst/pst");
  const auto oslo = Read("police/oslo");
  const AckOp op = Ack("police/oslo", {oslo[0].delivery_id, pst[0].delivery_id});
  EXPECT_EQ(op.status.code(), Code::kNotFound);
  EXPECT_NE(op.status.message().find("delivery_ids[1]"), std::string::npos);
  EXPECT_EQ(Read("police/oslo").size(), 1u);  // The first id was rolled back too.
  EXPECT_EQ(Count("disclosures WHERE event = 'acknowledge'"), 0);  // And its record.
}

TEST_P(StoreTest, RefusedRecipientsGetARecordAndNoDelivery) {
  const PostOp op = Post(Message("m1", "k1", {"police/oslo"}, {"municipality/0301"}));
  ASSERT_TRUE(op.status.ok());
  EXPECT_EQ(op.receipt.recipients, std::vector<std::string>{"police/oslo"});
  ASSERT_EQ(op.receipt.refusals.size(), 1u);
  EXPECT_EQ(op.receipt.refusals[0].party, "municipality/0301");
  EXPECT_EQ(Count("deliveries"), 1);
  EXPECT_EQ(Count("disclosures WHERE outcome = 'refused' AND event = 'refuse' AND "
                  "recipient = 'municipality/0301' AND delivery_id IS NULL"),
            1);
  EXPECT_EQ(Count("disclosures WHERE outcome = 'disclosed' AND view = '*' AND "
                  "sender_certificate_fingerprint = 'ab12' AND legal_citation != ''"),
            1);
  EXPECT_TRUE(Read("municipality/0301").empty());
  // The retry's receipt reports the same refusal.
  const PostOp again = Post(Message("m2", "k1", {"police/oslo"}, {"municipality/0301"}));
  EXPECT_TRUE(again.receipt.duplicate);
  ASSERT_EQ(again.receipt.refusals.size(), 1u);
  EXPECT_EQ(again.receipt.refusals[0].reason, "not allowed");
}

TEST_P(StoreTest, PostRefusedForEveryRecipientStoresOnlyTheRefusals) {
  const PostOp op = Post(Message("m1", "k1", {}, {"police/oslo", "pst/pst"}));
  ASSERT_TRUE(op.status.ok());
  EXPECT_TRUE(op.receipt.recipients.empty());
  EXPECT_EQ(Count("messages"), 0);
  EXPECT_EQ(Count("deliveries"), 0);
  EXPECT_EQ(Count("disclosures WHERE outcome = 'refused'"), 2);
}

TEST_P(StoreTest, MessageStateIsOnlyForTheSender) {
  Post(Message("m1", "k1"));
  MessageState state;
  ASSERT_TRUE(store_->GetMessageState("m1", "correctional/oslo-fengsel", &state).ok());
  ASSERT_EQ(state.recipients.size(), 2u);
  EXPECT_FALSE(state.recipients[0].received_at);
  std::vector<WriteOp> ops{ReceivedOp{"police/oslo", Read("police/oslo")[0].delivery_id, {}}};
  ASSERT_TRUE(Apply(ops, 1500).ok());
  ASSERT_TRUE(store_->GetMessageState("m1", "correctional/oslo-fengsel", &state).ok());
  EXPECT_EQ(state.recipients[0].received_at, 1500);
  EXPECT_EQ(store_->GetMessageState("m1", "police/oslo", &state).code(), Code::kNotFound);
  EXPECT_EQ(store_->GetMessageState("nope", "correctional/oslo-fengsel", &state).code(),
            Code::kNotFound);
}

// An auditor's scope as a store filter leaves out exactly what InScope does.
TEST_P(StoreTest, AScopedQueryLeavesOutWhatTheScopeDoes) {
  NewMessage m = Message("m1", "k1", {"police/oslo", "pst/pst", "municipality/0301"});
  m.recipients[2].on_behalf_of = "pst/pst";
  Post(std::move(m));
  std::vector<WriteOp> reads;
  for (const char* auditor : {"auditor/eos-utvalget", "auditor/datatilsynet"}) {
    CallRecordOp read;
    read.party = auditor;
    read.reason = "QueryDisclosures party=pst/pst";
    reads.emplace_back(std::move(read));
  }
  ASSERT_TRUE(Apply(reads).ok());
  Party datatilsynet;
  datatilsynet.kind = PartyKind::kAuditor;
  datatilsynet.id = "datatilsynet";
  datatilsynet.out_of_scope = {PartyKind::kPst};
  RecordFilter all;
  std::vector<v1::DisclosureRecord> everything;
  ASSERT_TRUE(store_->QueryRecords(all, 0, 100, &everything).ok());
  std::vector<uint64_t> expected;
  for (const auto& r : everything) {
    if (InScope(datatilsynet, r)) expected.push_back(r.index());
  }
  EXPECT_EQ(expected.size(), 2u);  // police/oslo's disclosure and its own read.
  RecordFilter scoped;
  scoped.scope = ScopeOf(datatilsynet);
  std::vector<v1::DisclosureRecord> found;
  ASSERT_TRUE(store_->QueryRecords(scoped, 0, 100, &found).ok());
  std::vector<uint64_t> indexes;
  for (const auto& r : found) indexes.push_back(r.index());
  EXPECT_EQ(indexes, expected);
}

// The rules put in force are a record each, their texts kept once by hash; a message decided
// under older rules than those recorded last is refused and stores nothing.
TEST_P(StoreTest, PolicyRecordsKeepTheirTextsAndOlderRulesDecideNothingAfterThem) {
  std::vector<WriteOp> first{PolicyOp{1, {{"legal-bases", "a = 1\n", ""}}, {}, 0}};
  ASSERT_TRUE(Apply(first).ok());
  ASSERT_TRUE(std::get<PolicyOp>(first[0]).status.ok());
  std::vector<WriteOp> second{
      PolicyOp{2, {{"legal-bases", "a = 1\n", ""}, {"parties", "b = 2\n", ""}}, {}, 0}};
  ASSERT_TRUE(Apply(second).ok());
  const PolicyOp& recorded = std::get<PolicyOp>(second[0]);
  ASSERT_TRUE(recorded.status.ok());
  EXPECT_EQ(Count("policy_texts"), 2);
  EXPECT_EQ(Count("disclosures WHERE event = 'policy' AND message_type = 'policy'"), 2);
  std::vector<v1::DisclosureRecord> records;
  RecordFilter filter;
  filter.message_type = "policy";
  ASSERT_TRUE(store_->QueryRecords(filter, 0, 10, &records).ok());
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].index(), recorded.index);
  EXPECT_EQ(records[1].reason(), "rules in force: legal-bases sha256=" + ToHex(Sha256("a = 1\n")) +
                                     " parties sha256=" + ToHex(Sha256("b = 2\n")));
  PolicyText text;
  ASSERT_TRUE(store_->GetPolicyText(Sha256("b = 2\n"), &text).ok());
  EXPECT_EQ(text.name, "parties");
  EXPECT_EQ(text.text, "b = 2\n");
  EXPECT_EQ(store_->GetPolicyText(Sha256("c"), &text).code(), Code::kNotFound);

  NewMessage decided_before = Message("m1", "k1");
  decided_before.policy = 1;
  EXPECT_EQ(Post(std::move(decided_before)).status.code(), Code::kAborted);
  EXPECT_EQ(Count("messages"), 0);
  NewMessage decided_now = Message("m2", "k1");
  decided_now.policy = 2;
  EXPECT_TRUE(Post(std::move(decided_now)).status.ok());
  // Registry calls likewise.
  ListFlagsOp lookup;
  lookup.caller = {"police/oslo", PartyKind::kPolice, "", "", 1};
  lookup.rules = std::make_shared<LegalBasisCatalogue>();
  std::vector<WriteOp> stale{std::move(lookup)};
  ASSERT_TRUE(Apply(stale).ok());
  EXPECT_EQ(std::get<ListFlagsOp>(stale[0]).status.code(), Code::kAborted);
  EXPECT_EQ(Count("disclosures WHERE event = 'read'"), 0);
}

// A disclosure on another party's behalf (a municipality told because of PST's flag) is
// recorded as such and left out of what the sender reads back: its status and a retry's receipt.
TEST_P(StoreTest, DisclosuresOnAnotherPartysBehalfAreRecordedAndNotShownToTheSender) {
  NewMessage m = Message("m1", "k1", {"police/oslo", "municipality/0301"});
  m.recipients[1].on_behalf_of = "pst/pst";
  m.refusals.push_back({"municipality/0301", "a second refusal, on PST's behalf", "pst/pst"});
  const PostOp first = Post(std::move(m));
  ASSERT_TRUE(first.status.ok());
  EXPECT_EQ(Count("disclosures WHERE recipient = 'municipality/0301' AND on_behalf_of = "
                  "'pst/pst'"),
            2);
  MessageState state;
  ASSERT_TRUE(store_->GetMessageState("m1", "correctional/oslo-fengsel", &state).ok());
  ASSERT_EQ(state.recipients.size(), 1u);
  EXPECT_EQ(state.recipients[0].party, "police/oslo");
  // The party it was made for sees it, and only it.
  ASSERT_TRUE(store_->GetMessageState("m1", "pst/pst", &state).ok());
  ASSERT_EQ(state.recipients.size(), 1u);
  EXPECT_EQ(state.recipients[0].party, "municipality/0301");
  const PostOp again = Post(Message("m1-again", "k1", {"police/oslo"}));
  EXPECT_TRUE(again.receipt.duplicate);
  EXPECT_EQ(again.receipt.recipients, std::vector<std::string>{"police/oslo"});
  EXPECT_TRUE(again.receipt.refusals.empty());
  std::vector<v1::DisclosureRecord> records;
  RecordFilter filter;
  filter.party = "municipality/0301";
  ASSERT_TRUE(store_->QueryRecords(filter, 0, 10, &records).ok());
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].on_behalf_of(), "pst/pst");  // Read back, and so in the leaf.
  records.clear();
  filter = {};
  filter.message_id = "m1";
  ASSERT_TRUE(store_->QueryRecords(filter, 0, 10, &records).ok());
  EXPECT_EQ(records.size(), 3u);  // Two disclosures, one refusal.
  // Its acknowledgement is evidence for PST, on whose behalf it was made, not for the sender.
  ASSERT_EQ(
      Ack("municipality/0301", {Read("municipality/0301").at(0).delivery_id}).newly_acknowledged,
      1u);
  EXPECT_EQ(Count("disclosures WHERE event = 'acknowledge' AND recipient = 'pst/pst' AND "
                  "on_behalf_of = 'pst/pst'"),
            1);
}

TEST_P(StoreTest, CommittedDataSurvivesReopen) {
  Post(Message("m1", "k1"));
  Reopen();
  EXPECT_EQ(Read("police/oslo").size(), 1u);
  EXPECT_TRUE(Post(Message("m2", "k1")).receipt.duplicate);
}

// synchronous=FULL and WAL are what make a receipt mean the post survives a power loss; kill -9
// leaves the page cache intact, so no crash test could see them go. The store reports what the
// committing sessions say, and refuses to open if it is less.
TEST_F(SqliteStoreTest, CommitsAreFsyncedAsTheCommittingConnectionsReport) {
  EXPECT_EQ(
      store_->durability(),
      (std::vector<DurabilitySetting>{
          {"journal_mode", "wal"}, {"synchronous", "full"}, {"checkpoint_synchronous", "full"}}));
  // WAL mode is kept in the file: another connection sees it too.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2((dir_ / "db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST_F(PgStoreTest, CommitsWaitForTheFlushAndAServerWithoutFsyncIsRefused) {
  // The writer's session, read back: the test cluster runs with fsync and full-page writes off.
  EXPECT_EQ(store_->durability(),
            (std::vector<DurabilitySetting>{
                {"synchronous_commit", "on"}, {"fsync", "off"}, {"full_page_writes", "off"}}));
  store_.reset();
  std::unique_ptr<PgStore> store;
  Status s = PgStore::Open(
      {.conninfo = ConnInfo(), .instance = "test", .version = "0", .readers = 1}, &store);
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("fsync is off"), std::string::npos) << s.message();
  // A session that would not wait for the flush is refused whatever the server does: at open,
  // and when a store that was opened before reconnects into such a session.
  const PgStoreOptions allowed{.conninfo = ConnInfo(),
                               .instance = "test",
                               .version = "0",
                               .readers = 1,
                               .allow_fsync_off = true};
  ASSERT_TRUE(PgStore::Open(allowed, &store).ok());
  store->SetDataKeys(testing::TestDataKeys());
  ASSERT_TRUE(ExecRaw("ALTER DATABASE " + database_ + " SET synchronous_commit = off").ok());
  ASSERT_TRUE(ExecRaw("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" +
                      database_ + "' AND pid <> pg_backend_pid()")
                  .ok());
  std::vector<WriteOp> ops{PostOp{Message("m1", "k1"), {}, {}}};
  std::vector<WriteOp*> ptrs{ops.data()};
  s = store->Apply(ptrs, 1000);
  if (s.code() == Code::kUnavailable) s = store->Apply(ptrs, 1000);  // Loss noticed mid-call.
  EXPECT_EQ(s.code(), Code::kFailedPrecondition) << s.message();
  EXPECT_NE(s.message().find("synchronous_commit is off"), std::string::npos) << s.message();
  EXPECT_EQ(Count("messages"), 0);
  store.reset();
  s = PgStore::Open(allowed, &store);
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("synchronous_commit is off"), std::string::npos) << s.message();
}

TEST_P(StoreTest, DisclosureRecordsAreAppendOnly) {
  Post(Message("m1", "k1"));
  constexpr const char* kWhy = "disclosure records are append-only";
  ExpectRefusedByTrigger("UPDATE disclosures SET recipient = 'x'", kWhy);
  ExpectRefusedByTrigger("DELETE FROM disclosures", kWhy);
  if (backend_ == Backend::kPostgres) ExpectRefusedByTrigger("TRUNCATE disclosures", kWhy);
  EXPECT_EQ(Count("disclosures"), 2);
  EXPECT_EQ(Count("disclosures WHERE recipient = 'x'"), 0);
}

TEST_P(StoreTest, RefusesADatabaseFromANewerVersion) {
  store_.reset();
  ASSERT_TRUE(MarkSchemaNewer().ok());
  std::unique_ptr<Store> store;
  const Status s = OpenStore(&store, 1);
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("newer"), std::string::npos);
}

TEST_P(StoreTest, OverdueDeliveriesAreEscalatedExactlyOnce) {
  NewMessage m = Message("m1", "k1", {"municipality/0301", "police/oslo"});
  m.recipients[0].ack_deadline = 5000;
  Post(std::move(m), 1000);
  std::optional<int64_t> next;
  ASSERT_TRUE(store_->NextDeadline(&next).ok());
  EXPECT_EQ(next, 5000);
  std::vector<OverdueDelivery> overdue;
  ASSERT_TRUE(store_->ListOverdue(4999, 10, &overdue).ok());
  EXPECT_TRUE(overdue.empty());
  ASSERT_TRUE(store_->ListOverdue(5000, 10, &overdue).ok());
  ASSERT_EQ(overdue.size(), 1u);
  const OverdueDelivery& o = overdue[0];
  EXPECT_EQ(o.recipient, "municipality/0301");
  EXPECT_EQ(o.message_id, "m1");
  EXPECT_EQ(o.sender, "correctional/oslo-fengsel");
  EXPECT_EQ(o.legal_basis, "strgjfl-4i");
  EXPECT_EQ(o.subject_hash, "subject");
  EXPECT_EQ(o.deadline, 5000);
  EXPECT_EQ(o.posted_at, 1000);
  EXPECT_FALSE(o.received_at.has_value());

  // Two sweeps racing for the same delivery: the first escalates, the second changes nothing.
  NewMessage e = Message("e1", "escalation-1", {"correctional/oslo-fengsel", "police/oslo"});
  e.sender = "infoflytd";
  e.event = "escalate";
  NewMessage e2 = e;
  e2.message_id = "e2";
  std::vector<WriteOp> ops{EscalateOp{o.delivery_id, e, {}, {}},
                           EscalateOp{o.delivery_id, e2, {}, {}}};
  ASSERT_TRUE(Apply(ops, 6000).ok());
  EXPECT_TRUE(std::get<EscalateOp>(ops[0]).status.ok());
  EXPECT_EQ(std::get<EscalateOp>(ops[1]).status.code(), Code::kFailedPrecondition);
  EXPECT_EQ(Count("messages WHERE sender = 'infoflytd'"), 1);
  EXPECT_EQ(Count("disclosures WHERE event = 'escalate'"), 2);
  EXPECT_EQ(Read("police/oslo").size(), 2u);  // The notice and the escalation.
  overdue.clear();
  ASSERT_TRUE(store_->ListOverdue(7000, 10, &overdue).ok());
  EXPECT_TRUE(overdue.empty());
  ASSERT_TRUE(store_->NextDeadline(&next).ok());
  EXPECT_FALSE(next.has_value());
  MessageState state;
  ASSERT_TRUE(store_->GetMessageState("m1", "correctional/oslo-fengsel", &state).ok());
  EXPECT_EQ(state.recipients[0].ack_deadline, 5000);
  EXPECT_EQ(state.recipients[0].escalated_at, 6000);
  EXPECT_FALSE(state.recipients[1].ack_deadline.has_value());
}

TEST_P(StoreTest, AcknowledgedDeliveriesAreNeverOverdue) {
  NewMessage m = Message("m1", "k1", {"municipality/0301"});
  m.recipients[0].ack_deadline = 5000;
  Post(std::move(m), 1000);
  const uint64_t id = Read("municipality/0301").at(0).delivery_id;
  EXPECT_EQ(Ack("municipality/0301", {id}).newly_acknowledged, 1u);
  std::vector<OverdueDelivery> overdue;
  ASSERT_TRUE(store_->ListOverdue(9000, 10, &overdue).ok());
  EXPECT_TRUE(overdue.empty());
  std::optional<int64_t> next;
  ASSERT_TRUE(store_->NextDeadline(&next).ok());
  EXPECT_FALSE(next.has_value());
  std::vector<WriteOp> ops{EscalateOp{id, Message("e1", "escalation-1"), {}, {}}};
  ASSERT_TRUE(Apply(ops, 9000).ok());
  EXPECT_EQ(std::get<EscalateOp>(ops[0]).status.code(), Code::kFailedPrecondition);
  EXPECT_EQ(Count("messages"), 1);
}

// The oversight statistics' rows: counts by day, event, outcome, basis and kind of sender, and
// each disclosure to a municipality with its acknowledgement, within the period and the scope.
TEST_P(StoreTest, StatisticsCountRecordsByDayAndGiveMunicipalitiesAckTimesInTheScope) {
  constexpr int64_t kDay = int64_t{86'400} * 1'000'000;
  NewMessage m = Message("m1", "k1", {"municipality/0301", "police/oslo", "municipality/4601"},
                         {"police/bergen"});
  m.recipients[0].ack_deadline = kDay + 5000;
  m.recipients[2].on_behalf_of = "pst/pst";
  Post(std::move(m), kDay + 1000);
  Post(Message("m2", "k2", {"police/oslo"}), 2 * kDay + 1);
  const uint64_t oslo = Read("municipality/0301").at(0).delivery_id;
  std::vector<WriteOp> ack{AckOp{"municipality/0301", {oslo}, {}, 0, "CN=0301", "ab"}};
  ASSERT_TRUE(Apply(ack, kDay + 3000).ok());

  RecordFilter period;
  period.from = kDay;
  period.until = 3 * kDay;
  std::vector<RecordCount> counts;
  std::vector<MunicipalityAck> acks;
  ASSERT_TRUE(store_->CountRecords(period, &counts, &acks).ok());
  using Row = std::tuple<int64_t, std::string, std::string, std::string, std::string, uint64_t>;
  auto rows_of = [](const std::vector<RecordCount>& found) {
    std::vector<Row> rows;
    rows.reserve(found.size());
    for (const auto& c : found) {
      rows.emplace_back(c.day, c.event, c.outcome, c.legal_basis, c.sender_kind, c.count);
    }
    return rows;
  };
  std::vector<Row> rows = rows_of(counts);
  EXPECT_EQ(rows, (std::vector<Row>{
                      Row{1, "acknowledge", "acknowledged", "strgjfl-4i", "municipality", 1},
                      Row{1, "disclose", "disclosed", "strgjfl-4i", "correctional", 3},
                      Row{1, "refuse", "refused", "strgjfl-4i", "correctional", 1},
                      Row{2, "disclose", "disclosed", "strgjfl-4i", "correctional", 1},
                  }));
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_EQ(acks[0].municipality, "municipality/0301");
  EXPECT_EQ(acks[0].sample.disclosed_at, kDay + 1000);
  EXPECT_EQ(acks[0].sample.acked_at, kDay + 3000);
  EXPECT_EQ(acks[0].sample.deadline, kDay + 5000);
  EXPECT_EQ(acks[1].municipality, "municipality/4601");
  EXPECT_FALSE(acks[1].sample.acked_at.has_value());
  EXPECT_FALSE(acks[1].sample.deadline.has_value());

  // A shorter period leaves out the second day; a scope without PST the delivery on its behalf.
  period.until = 2 * kDay;
  Party datatilsynet;
  datatilsynet.kind = PartyKind::kAuditor;
  datatilsynet.id = "datatilsynet";
  datatilsynet.out_of_scope = {PartyKind::kPst};
  period.scope = ScopeOf(datatilsynet);
  counts.clear();
  acks.clear();
  ASSERT_TRUE(store_->CountRecords(period, &counts, &acks).ok());
  rows = rows_of(counts);
  EXPECT_EQ(rows, (std::vector<Row>{
                      Row{1, "acknowledge", "acknowledged", "strgjfl-4i", "municipality", 1},
                      Row{1, "disclose", "disclosed", "strgjfl-4i", "correctional", 2},
                      Row{1, "refuse", "refused", "strgjfl-4i", "correctional", 1},
                  }));
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].municipality, "municipality/0301");
}

TEST_P(StoreTest, EveryRecordIsALeafOfTheLogInOrder) {
  Post(Message("m1", "k1", {"police/oslo", "pst/pst"}, {"municipality/0301"}));
  Post(Message("m2", "k2", {}, {"municipality/0301"}));  // Refused outright: a record still.
  std::vector<WriteOp> read{CallRecordOp{
      "read", "auditor/riksrevisjonen", "CN=a", "ff", "subject", "QueryDisclosures", {}, 0}};
  ASSERT_TRUE(Apply(read).ok());
  EXPECT_EQ(std::get<CallRecordOp>(read[0]).index, 4u);
  ASSERT_EQ(store_->LogSize(), 5u);
  const std::vector<LogEntry> log = WholeLog();
  ASSERT_EQ(log.size(), 5u);
  for (uint64_t i = 0; i < log.size(); ++i) {
    EXPECT_EQ(log[i].record.index(), i);
    // The stored leaf is the record as it reads back.
    EXPECT_EQ(log[i].leaf_hash, merkle::RecordLeafHash(log[i].record)) << i;
  }
  EXPECT_EQ(log[0].record.event(), "refuse");
  EXPECT_EQ(log[1].record.event(), "disclose");
  EXPECT_EQ(log[1].record.legal_citation(), "straffegjennomføringsloven § 4 i");
  EXPECT_EQ(log[4].record.event(), "read");
  EXPECT_EQ(log[4].record.sender(), "auditor/riksrevisjonen");
  const StoredCheckpoint c = Checkpoint();
  EXPECT_EQ(c.tree_size, 5u);
  EXPECT_EQ(c.root, RootOfRecords(log, 5));
  EXPECT_EQ(c.note, "5:" + c.root);
  // The log has not grown: the same checkpoint, nothing new stored.
  EXPECT_EQ(Checkpoint(3000).signed_at, 2000);
  EXPECT_EQ(Count("checkpoints"), 1);
}

TEST_P(StoreTest, ProofsFromStoredNodesVerifyAgainstCheckpoints) {
  std::vector<StoredCheckpoint> checkpoints;
  for (int i = 0; i < 13; ++i) {
    Post(Message("m" + std::to_string(i), "k" + std::to_string(i)));
    checkpoints.push_back(Checkpoint(3000 + i));
  }
  const std::vector<LogEntry> log = WholeLog();
  for (const StoredCheckpoint& c : checkpoints) {
    for (uint64_t i = 0; i < c.tree_size; ++i) {
      std::vector<std::string> proof;
      ASSERT_TRUE(store_->InclusionProof(i, c.tree_size, &proof).ok());
      EXPECT_TRUE(merkle::VerifyInclusion(log[i].leaf_hash, i, c.tree_size, proof, c.root).ok());
    }
    for (const StoredCheckpoint& later : checkpoints) {
      if (later.tree_size < c.tree_size) continue;
      std::vector<std::string> proof;
      ASSERT_TRUE(store_->ConsistencyProof(c.tree_size, later.tree_size, &proof).ok());
      EXPECT_TRUE(
          merkle::VerifyConsistency(c.tree_size, later.tree_size, proof, c.root, later.root).ok());
    }
  }
  std::vector<std::string> proof;
  EXPECT_EQ(store_->InclusionProof(26, 26, &proof).code(), Code::kInvalidArgument);
  EXPECT_EQ(store_->ConsistencyProof(1, 27, &proof).code(), Code::kInvalidArgument);
  StoredCheckpoint found;
  ASSERT_TRUE(store_->GetCheckpoint(4, &found).ok());
  EXPECT_EQ(found.root, checkpoints[1].root);
  EXPECT_EQ(store_->GetCheckpoint(5, &found).code(), Code::kNotFound);
}

TEST_P(StoreTest, TheLogContinuesAcrossReopenAndItsNodesAreAppendOnly) {
  Post(Message("m1", "k1"));
  const StoredCheckpoint before = Checkpoint();
  Reopen();
  EXPECT_EQ(store_->LogSize(), 2u);
  Post(Message("m2", "k2"));
  const StoredCheckpoint after = Checkpoint(4000);
  EXPECT_EQ(after.root, RootOfRecords(WholeLog(), 4));
  std::vector<std::string> proof;
  ASSERT_TRUE(store_->ConsistencyProof(2, 4, &proof).ok());
  EXPECT_TRUE(merkle::VerifyConsistency(2, 4, proof, before.root, after.root).ok());
  ExpectRefusedByTrigger("DELETE FROM merkle_nodes", "the log is append-only");
  ExpectRefusedByTrigger("UPDATE merkle_nodes SET hash = hash", "the log is append-only");
  ExpectRefusedByTrigger("UPDATE checkpoints SET note = ''", "checkpoints are append-only");
  ExpectRefusedByTrigger("DELETE FROM checkpoints", "checkpoints are append-only");
  if (backend_ == Backend::kPostgres) {
    ExpectRefusedByTrigger("TRUNCATE merkle_nodes", "the log is append-only");
    ExpectRefusedByTrigger("TRUNCATE checkpoints", "checkpoints are append-only");
  }
  // 4 leaves, 2 pairs, 1 of four: both backends store only leaves and subtrees of 16 or more,
  // and recompute the rest from the leaves (the proof above needed them).
  EXPECT_EQ(Count("merkle_nodes"), 4);
}

TEST_P(StoreTest, QueriesFilterByPersonPartyBasisTypeOutcomeAndTime) {
  NewMessage other = Message("m2", "k2", {"police/vest"});
  other.subject_hash = "someone-else";
  Post(Message("m1", "k1", {"police/oslo", "pst/pst"}, {"municipality/0301"}), 1000);
  Post(std::move(other), 2000);
  auto query = [&](const RecordFilter& f, uint64_t from = 0, size_t limit = 100) {
    std::vector<v1::DisclosureRecord> out;
    EXPECT_TRUE(store_->QueryRecords(f, from, limit, &out).ok());
    std::vector<uint64_t> indexes;
    indexes.reserve(out.size());
    for (const auto& r : out) indexes.push_back(r.index());
    return indexes;
  };
  auto filter = [](std::string subject, std::string party, std::string basis = "",
                   std::string type = "", std::string outcome = "") {
    RecordFilter f;
    f.subject_hash = std::move(subject);
    f.party = std::move(party);
    f.legal_basis = std::move(basis);
    f.message_type = std::move(type);
    f.outcome = std::move(outcome);
    return f;
  };
  EXPECT_EQ(query(filter("subject", "")), (std::vector<uint64_t>{0, 1, 2}));
  EXPECT_EQ(query(filter("someone-else", "")), (std::vector<uint64_t>{3}));
  EXPECT_EQ(query(filter("", "police/vest")), (std::vector<uint64_t>{3}));
  EXPECT_EQ(query(filter("", "correctional/oslo-fengsel")).size(), 4u);  // As sender.
  EXPECT_EQ(query(filter("", "", "", "", "refused")), (std::vector<uint64_t>{0}));
  EXPECT_EQ(query(filter("", "", "strgjfl-4i", "release_notice", "disclosed")),
            (std::vector<uint64_t>{1, 2, 3}));
  RecordFilter late;
  late.from = 1500;
  EXPECT_EQ(query(late), (std::vector<uint64_t>{3}));
  late.from.reset();
  late.until = 1500;
  EXPECT_EQ(query(late), (std::vector<uint64_t>{0, 1, 2}));
  // Pages: from an index, at most `limit`.
  EXPECT_EQ(query({}, 1, 2), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(query({}, 3, 2), (std::vector<uint64_t>{3}));
}

// A record that could not be stored as it is (PostgreSQL's text takes no NUL byte; the leaf
// would then not match the row) fails its op alone, on both backends alike.
TEST_P(StoreTest, ARecordThatCannotBeStoredAsItIsFailsItsOpAlone) {
  NewMessage bad = Message("m1", "k1");
  bad.recipients[0].note = std::string("flag\0note", 9);
  std::vector<WriteOp> ops{PostOp{std::move(bad), {}, {}}, PostOp{Message("m2", "k2"), {}, {}}};
  ASSERT_TRUE(Apply(ops).ok());
  EXPECT_EQ(std::get<PostOp>(ops[0]).status.code(), Code::kInvalidArgument);
  EXPECT_EQ(std::get<PostOp>(ops[0]).status.message(),
            "disclosure record: reason holds a NUL byte, which cannot be stored as text");
  EXPECT_TRUE(std::get<PostOp>(ops[1]).status.ok());
  EXPECT_EQ(Count("messages"), 1);
  EXPECT_EQ(store_->LogSize(), 2u);
}

TEST_P(StoreTest, RecipientsGivenTheSameBytesShareOneStoredCopy) {
  NewMessage m = Message("m1", "k1", {"police/oslo", "pst/pst", "municipality/0301"});
  m.recipients[2].envelope = "municipal view";
  Post(std::move(m));
  EXPECT_EQ(Read("police/oslo").at(0).envelope, "envelope-m1");
  EXPECT_EQ(Read("pst/pst").at(0).envelope, "envelope-m1");
  EXPECT_EQ(Read("municipality/0301").at(0).envelope, "municipal view");
  EXPECT_EQ(Read("pst/pst", 0, false).at(0).envelope, "envelope-m1");  // Also when replaying.
  EXPECT_EQ(Count("deliveries WHERE length(envelope) > 0"), 2);
  EXPECT_EQ(Count("deliveries WHERE same_as IS NOT NULL"), 1);
}

// Envelopes are stored sealed (nothing of them in clear), each bound to its message: one copied
// into another message's row does not open, and goes out marked unreadable, without a body.
TEST_P(StoreTest, EnvelopesAreSealedAndBoundToTheirMessage) {
  Post(Message("m1", "k1"));
  Post(Message("m2", "k2"));
  EXPECT_EQ(EnvelopesHolding("envelope-m"), 0);
  std::vector<StoredDelivery> read = Read("police/oslo");
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read[0].envelope, "envelope-m1");
  EXPECT_EQ(read[1].envelope, "envelope-m2");
  EXPECT_FALSE(read[0].unreadable || read[1].unreadable);
  const uint64_t police_m2 = read[1].delivery_id;
  // m1's police copy (shared with PST) into m2's.
  ASSERT_TRUE(ExecRaw("UPDATE deliveries SET envelope = (SELECT envelope FROM deliveries WHERE "
                      "id = " +
                      std::to_string(read[0].delivery_id) +
                      ") WHERE id = " + std::to_string(read[1].delivery_id))
                  .ok());
  for (const std::string party : {"police/oslo", "pst/pst"}) {
    read = Read(party);
    ASSERT_EQ(read.size(), 2u) << party;
    EXPECT_EQ(read[0].envelope, "envelope-m1") << party;
    EXPECT_TRUE(read[1].unreadable) << party;
    EXPECT_EQ(read[1].envelope, "") << party;
  }
  // Sent marked unreadable: the sender's status says when.
  std::vector<WriteOp> ops{ReceivedOp{"police/oslo", police_m2, {}, true}};
  ASSERT_TRUE(Apply(ops, 3000).ok());
  MessageState state;
  ASSERT_TRUE(store_->GetMessageState("m2", "correctional/oslo-fengsel", &state).ok());
  ASSERT_EQ(state.recipients.size(), 2u);
  EXPECT_EQ(state.recipients[0].unreadable_at, 3000);
  EXPECT_EQ(state.recipients[0].received_at, 3000);
  EXPECT_FALSE(state.recipients[1].unreadable_at.has_value());
  // A later normal mark clears nothing.
  ops = {ReceivedOp{"police/oslo", police_m2, {}, false}};
  ASSERT_TRUE(Apply(ops, 4000).ok());
  ASSERT_TRUE(store_->GetMessageState("m2", "correctional/oslo-fengsel", &state).ok());
  EXPECT_EQ(state.recipients[0].unreadable_at, 3000);
}

// Each recipient's view is bound to that recipient's record: one moved to another recipient of
// the same message (or a delivery pointed at another's copy) does not open there.
TEST_P(StoreTest, ABodyMovedToAnotherRecipientOfTheSameMessageDoesNotOpen) {
  NewMessage m = Message("m1", "k1");
  m.recipients[1].envelope = "pst's view";
  m.recipients[1].content_hash = "h-pst";
  Post(std::move(m));
  const std::vector<StoredDelivery> police = Read("police/oslo");
  const std::vector<StoredDelivery> pst = Read("pst/pst");
  ASSERT_EQ(pst.at(0).envelope, "pst's view");
  ASSERT_EQ(police.at(0).envelope, "envelope-m1");
  const std::string police_row = std::to_string(police[0].delivery_id);
  const std::string pst_row = std::to_string(pst[0].delivery_id);
  ASSERT_TRUE(
      ExecRaw("UPDATE deliveries SET envelope = (SELECT envelope FROM deliveries WHERE id = " +
              pst_row + ") WHERE id = " + police_row)
          .ok());
  EXPECT_TRUE(Read("police/oslo").at(0).unreadable);
  // A delivery made to share another recipient's copy, in a second message.
  NewMessage m2 = Message("m2", "k2");
  m2.recipients[1].envelope = "pst's view of m2";
  m2.recipients[1].content_hash = "h-pst-2";
  Post(std::move(m2));
  const uint64_t police_m2 = Read("police/oslo").at(1).delivery_id;
  const uint64_t pst_m2 = Read("pst/pst").at(1).delivery_id;
  ASSERT_TRUE(ExecRaw("UPDATE deliveries SET same_as = " + std::to_string(police_m2) +
                      " WHERE id = " + std::to_string(pst_m2))
                  .ok());
  EXPECT_TRUE(Read("pst/pst").at(1).unreadable);
  EXPECT_EQ(Read("police/oslo").at(1).envelope, "envelope-m2");
}

std::vector<DataKeys::Check> ChecksOf(const std::string& key_file) {
  return testing::TestDataKeys(key_file)->Checks();
}

// A store records the first ring it is given and rotations of it, but not a ring that another
// first start made: that one records nothing (and its daemon is refused naming its file).
TEST_P(StoreTest, DataKeysRecordTheFirstRingAndItsRotationsOnly) {
  const std::string a = std::string(64, 'a') + "\n";
  const std::string b = std::string(64, 'b') + "\n";
  const std::string c = std::string(64, 'c') + "\n";
  std::vector<DataKeys::Check> recorded;
  ASSERT_TRUE(store_->RecordDataKeys(ChecksOf(a), 1, &recorded).ok());
  EXPECT_EQ(recorded, ChecksOf(a));
  ASSERT_TRUE(store_->RecordDataKeys(ChecksOf(b), 2, &recorded).ok());
  EXPECT_EQ(recorded, ChecksOf(a));
  ASSERT_TRUE(store_->RecordDataKeys(ChecksOf(a + c), 3, &recorded).ok());
  EXPECT_EQ(recorded, ChecksOf(a + c));
}

// Two daemons starting at once on a new database, each with a ring of its own: exactly one
// ring is recorded, and each daemon is told which.
TEST_F(PgStoreTest, TwoFirstStartsAtOnceRecordOneRing) {
  std::unique_ptr<Store> other;
  ASSERT_TRUE(OpenStore(&other).ok());
  const std::string a = std::string(64, 'a') + "\n";
  const std::string b = std::string(64, 'b') + "\n";
  std::vector<DataKeys::Check> seen_a;
  std::vector<DataKeys::Check> seen_b;
  Status sa;
  Status sb;
  std::thread first([&] { sa = store_->RecordDataKeys(ChecksOf(a), 1, &seen_a); });
  std::thread second([&] { sb = other->RecordDataKeys(ChecksOf(b), 1, &seen_b); });
  first.join();
  second.join();
  ASSERT_TRUE(sa.ok()) << sa.message();
  ASSERT_TRUE(sb.ok()) << sb.message();
  EXPECT_EQ(Count("data_keys"), 1);
  EXPECT_EQ(seen_a, seen_b);
}

// A query's entries carry the leaf each record was logged with, so that a record changed since
// can be told from one that was not.
TEST_P(StoreTest, QueriedEntriesCarryTheirLoggedLeaf) {
  Post(Message("m1", "k1"));
  std::vector<LogEntry> entries;
  ASSERT_TRUE(store_->QueryLog({}, 0, 10, &entries).ok());
  ASSERT_EQ(entries.size(), 2u);
  for (const LogEntry& e : entries) {
    EXPECT_EQ(e.leaf_hash, merkle::RecordLeafHash(e.record)) << e.record.index();
  }
  ASSERT_TRUE(ExecRaw(backend_ == Backend::kSqlite
                          ? "DROP TRIGGER disclosures_no_update; "
                            "UPDATE disclosures SET reason = 'changed' WHERE id = 1"
                          : "ALTER TABLE disclosures DISABLE TRIGGER disclosures_append_only; "
                            "UPDATE disclosures SET reason = 'changed' WHERE leaf_index = 0")
                  .ok());
  entries.clear();
  ASSERT_TRUE(store_->QueryLog({}, 0, 10, &entries).ok());
  EXPECT_NE(entries.at(0).leaf_hash, merkle::RecordLeafHash(entries.at(0).record));
  EXPECT_EQ(entries.at(1).leaf_hash, merkle::RecordLeafHash(entries.at(1).record));
}

// Retention: a message's bodies are erased `retain` after every recipient acknowledged, or at
// the latest `retain_max` after posting; each erasure is an "erase" record, and the records
// before it, and the roots checkpointed before it, stay as they were.
TEST_P(StoreTest, RetentionErasesBodiesAfterAcknowledgementOrAtTheLatestAndRecordsIt) {
  constexpr int64_t kSecond = 1'000'000;
  Post(Message("m1", "k1"));
  Post(Message("m2", "k2"));
  Ack("police/oslo", {Read("police/oslo").at(0).delivery_id});
  EXPECT_EQ(Purge(1000 + 20 * kSecond), std::make_pair(size_t{0}, size_t{0}));  // PST has not.
  Ack("pst/pst", {Read("pst/pst").at(0).delivery_id});
  const StoredCheckpoint before = Checkpoint();
  EXPECT_EQ(Purge(1000 + 9 * kSecond), std::make_pair(size_t{0}, size_t{0}));
  EXPECT_EQ(Purge(1000 + 11 * kSecond), std::make_pair(size_t{1}, size_t{0}));

  std::vector<StoredDelivery> oslo = Read("police/oslo", 1, false);
  ASSERT_EQ(oslo.size(), 2u);
  EXPECT_TRUE(oslo[0].erased);
  EXPECT_FALSE(oslo[0].unreadable);
  EXPECT_EQ(oslo[0].envelope, "");
  EXPECT_FALSE(oslo[1].erased);
  EXPECT_EQ(oslo[1].envelope, "envelope-m2");
  EXPECT_EQ(Count("deliveries WHERE erased_at IS NOT NULL"), 2);
  EXPECT_EQ(Count("deliveries WHERE erased_at IS NOT NULL AND length(envelope) > 0"), 0);
  MessageState state;
  ASSERT_TRUE(store_->GetMessageState("m1", "correctional/oslo-fengsel", &state).ok());
  for (const RecipientState& r : state.recipients) {
    EXPECT_EQ(r.erased_at, 1000 + 11 * kSecond) << r.party;
  }

  // One erase record per delivery, with the delivery's parties, so that scopes apply to it.
  std::vector<LogEntry> log = WholeLog();
  ASSERT_EQ(log.size(), before.tree_size + 2);
  for (size_t i = before.tree_size; i < log.size(); ++i) {
    const v1::DisclosureRecord& erase = log[i].record;
    EXPECT_EQ(erase.event(), "erase");
    EXPECT_EQ(erase.outcome(), "erased");
    EXPECT_EQ(erase.message_id(), "m1");
    EXPECT_EQ(erase.sender(), "correctional/oslo-fengsel");
    EXPECT_EQ(erase.recipient(), i == before.tree_size ? "police/oslo" : "pst/pst");
    EXPECT_NE(erase.delivery_id(), 0u);
    EXPECT_EQ(erase.subject_hash(), "subject");
    EXPECT_EQ(erase.legal_basis(), "strgjfl-4i");
    EXPECT_EQ(erase.reason(), "body erased: retain 10s after every recipient acknowledged");
  }
  EXPECT_EQ(RootOfRecords(log, before.tree_size), before.root);
  RecordFilter without_pst;
  without_pst.outcome = "erased";
  without_pst.scope.excluded_prefixes = {"pst/"};
  std::vector<v1::DisclosureRecord> in_scope;
  ASSERT_TRUE(store_->QueryRecords(without_pst, 0, 10, &in_scope).ok());
  ASSERT_EQ(in_scope.size(), 1u);
  EXPECT_EQ(in_scope[0].recipient(), "police/oslo");

  // m2 was never acknowledged: erased at the latest retain_max after posting.
  EXPECT_EQ(Purge(1000 + 99 * kSecond), std::make_pair(size_t{0}, size_t{0}));
  EXPECT_EQ(Purge(1000 + 101 * kSecond), std::make_pair(size_t{1}, size_t{0}));
  EXPECT_TRUE(Read("pst/pst").at(0).erased);
  EXPECT_EQ(WholeLog().back().record.reason(), "body erased: retain_max 100s after posting");
  EXPECT_EQ(Purge(1000 + 200 * kSecond), std::make_pair(size_t{0}, size_t{0}));  // Once.
  log = WholeLog();
  EXPECT_EQ(log.size(), before.tree_size + 4);
  EXPECT_EQ(RootOfRecords(log, before.tree_size), before.root);
  // A reseal pass leaves erased bodies alone.
  EXPECT_EQ(Reseal(true), 0u);
  EXPECT_EQ(Count("deliveries WHERE length(envelope) > 0"), 0);
  EXPECT_EQ(Count("deliveries WHERE erased_at IS NULL"), 0);
}

// Erasing cannot be undone: a purge decided under rules older than those recorded last is
// refused (ABORTED) and erases nothing; the purger then starts again under the new rules.
TEST_P(StoreTest, APurgeUnderOlderRulesErasesNothing) {
  Post(Message("m1", "k1"));
  std::vector<WriteOp> policy{PolicyOp{2, {{"legal-bases", "a = 1\n", ""}}, {}, 0}};
  ASSERT_TRUE(Apply(policy).ok());
  PurgeOp op;
  op.rules = ShortRetention();
  op.policy = 1;
  std::vector<WriteOp> ops{op};
  ASSERT_TRUE(Apply(ops, 1000 + 200'000'000).ok());
  EXPECT_EQ(std::get<PurgeOp>(ops[0]).status.code(), Code::kAborted);
  EXPECT_EQ(Count("deliveries WHERE erased_at IS NOT NULL"), 0);
  std::get<PurgeOp>(ops[0]).policy = 2;
  std::get<PurgeOp>(ops[0]).status = Status::Ok();
  ASSERT_TRUE(Apply(ops, 1000 + 200'000'000).ok());
  EXPECT_EQ(std::get<PurgeOp>(ops[0]).erased_messages, 1u);
}

// An ended flag's person and reason are erased `retain` after it ended, with an "erase"
// record; an active flag, and one that ended later, are kept.
TEST_P(StoreTest, RetentionErasesEndedFlagsAfterTheirRetention) {
  constexpr int64_t kSecond = 1'000'000;
  Flag("pst/pst", "f1", "subject-a");
  Flag("pst/pst", "f2", "subject-b");
  Unflag("pst/pst", "f1");  // At 1000.
  EXPECT_EQ(Purge(1000 + 9 * kSecond).second, 0u);
  EXPECT_EQ(Purge(1000 + 11 * kSecond).second, 1u);
  EXPECT_TRUE(IdsOf(Lookup("pst/pst", "subject-a", true).flags).empty());
  EXPECT_EQ(IdsOf(Lookup("pst/pst", "", true).flags), std::vector<std::string>{"f2"});
  EXPECT_EQ(Count("flags WHERE erased_at IS NOT NULL AND reason = '' AND "
                  "length(subject_hash) = 0"),
            1);
  std::optional<v1::DisclosureRecord> erase;
  for (const LogEntry& e : WholeLog()) {
    if (e.record.event() == "erase") erase = e.record;
  }
  ASSERT_TRUE(erase.has_value());
  EXPECT_EQ(erase->message_type(), "flag");
  EXPECT_EQ(erase->sender(), "pst/pst");
  EXPECT_EQ(erase->subject_hash(), "subject-a");
  EXPECT_EQ(erase->reason(),
            "flag_id=f1 person and reason erased: retain 10s after the flag ended");
  EXPECT_EQ(Purge(1000 + 20 * kSecond).second, 0u);
}

// After a rotation, new bodies are sealed with the new key and old ones still open; a reseal
// pass moves the old ones to the new key, after which the old key opens nothing.
TEST_P(StoreTest, ARotatedDataKeySealsNewBodiesAndTheResealMovesOldOnes) {
  Post(Message("m1", "k1"));
  std::string new_id;
  const std::string rotated = DataKeys::AddKey(testing::kTestDataKeyFile, &new_id);
  store_->SetDataKeys(testing::TestDataKeys(rotated));
  Post(Message("m2", "k2"));
  std::vector<StoredDelivery> read = Read("police/oslo");
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read[0].envelope, "envelope-m1");
  EXPECT_EQ(read[1].envelope, "envelope-m2");
  // Only m2 is under the new key so far: a daemon without it fails the read, marking nothing.
  store_->SetDataKeys(testing::TestDataKeys());
  read.clear();
  EXPECT_EQ(store_->ReadDeliveries("police/oslo", 0, true, 1, &read).code(), Code::kOk);
  EXPECT_EQ(read.at(0).envelope, "envelope-m1");
  read.clear();
  EXPECT_EQ(store_->ReadDeliveries("police/oslo", 0, true, 10, &read).code(), Code::kUnavailable);
  store_->SetDataKeys(testing::TestDataKeys(rotated));
  EXPECT_EQ(Reseal(false), 1u);
  EXPECT_EQ(Reseal(false), 0u);  // Nothing left under the old key.
  // The new key alone (its line only) opens both.
  store_->SetDataKeys(
      testing::TestDataKeys(rotated.substr(rotated.rfind('\n', rotated.size() - 2) + 1)));
  read = Read("police/oslo");
  EXPECT_EQ(read[0].envelope, "envelope-m1");
  EXPECT_EQ(read[1].envelope, "envelope-m2");
}

// The scrub finds a record changed on disk, and also one changed together with its stored leaf
// and the stored root column: only the signed note's root is trusted.
TEST_F(SqliteStoreTest, TheScrubTrustsOnlyTheSignedCheckpoint) {
  Post(Message("m1", "k1"));
  Post(Message("m2", "k2"));
  std::unique_ptr<merkle::NoteSigner> signer;
  ASSERT_TRUE(merkle::NoteSigner::Generate("test/log", &signer).ok());
  std::unique_ptr<merkle::NoteVerifier> verifier;
  ASSERT_TRUE(merkle::NoteVerifier::FromVerifierKey(signer->VerifierKey(), &verifier).ok());
  CheckpointOp op;
  op.sign = [&](uint64_t size, const std::string& root, std::string* note) {
    std::string text;
    if (Status s = merkle::Checkpoint{"test/log", size, root, {}}.Format(&text); !s.ok()) return s;
    return signer->SignNote(text, note);
  };
  std::vector<WriteOp> ops{std::move(op)};
  ASSERT_TRUE(Apply(ops).ok());
  ScrubReport report;
  ASSERT_TRUE(ScrubLog(*store_, *verifier, &report).ok());
  EXPECT_TRUE(report.ok()) << report.Problem();
  EXPECT_EQ(report.records, 4u);
  EXPECT_EQ(report.checkpoint_size, 4u);

  ASSERT_TRUE(ExecRaw("DROP TRIGGER disclosures_no_update; DROP TRIGGER merkle_nodes_no_update; "
                      "DROP TRIGGER checkpoints_no_update; "
                      "UPDATE disclosures SET reason = 'forged' WHERE id = 2")
                  .ok());
  ASSERT_TRUE(ScrubLog(*store_, *verifier, &report).ok());
  EXPECT_EQ(report.changed, std::vector<uint64_t>{1});
  EXPECT_FALSE(report.checkpoint_matches);
  // The leaf and the root column rewritten to match: the signed root still tells.
  merkle::CompactRange tree;
  std::vector<merkle::Node> ignored;
  for (const LogEntry& e : WholeLog()) {
    ASSERT_TRUE(tree.Append(merkle::RecordLeafHash(e.record), &ignored).ok());
    if (e.record.index() == 1) {
      ASSERT_TRUE(ExecRaw("UPDATE merkle_nodes SET hash = x'" +
                          ToHex(merkle::RecordLeafHash(e.record)) + "' WHERE level = 0 AND idx = 1")
                      .ok());
    }
  }
  ASSERT_TRUE(ExecRaw("UPDATE checkpoints SET root = x'" + ToHex(tree.Root()) + "'").ok());
  ASSERT_TRUE(ScrubLog(*store_, *verifier, &report).ok());
  EXPECT_EQ(report.changed_count, 0u);
  EXPECT_FALSE(report.checkpoint_matches);
  EXPECT_NE(report.Problem().find("do not give the root of the signed checkpoint of size 4"),
            std::string::npos)
      << report.Problem();
}

// A database written before envelopes were shared (schema version 3, and so before records
// said on whose behalf they were made) is migrated on open and reads back as it was.
TEST_F(SqliteStoreTest, ADatabaseFromSchemaVersion3IsMigratedAndReadsBack) {
  Post(Message("m1", "k1"));
  store_.reset();
  ASSERT_TRUE(ExecRaw("ALTER TABLE deliveries DROP COLUMN same_as; "
                      "CREATE INDEX deliveries_by_message ON deliveries (message); "
                      "DROP INDEX disclosures_by_basis; DROP INDEX disclosures_by_type; "
                      "DROP INDEX disclosures_by_outcome; "
                      "ALTER TABLE disclosures DROP COLUMN on_behalf_of; DROP TABLE policy_texts; "
                      "DROP TABLE shared_keys; DROP TABLE data_keys; "
                      "ALTER TABLE deliveries DROP COLUMN unreadable_at; "
                      "DROP INDEX deliveries_holding_bodies; DROP INDEX messages_by_time; "
                      "ALTER TABLE deliveries DROP COLUMN erased_at; "
                      "ALTER TABLE flags DROP COLUMN erased_at; PRAGMA user_version = 3")
                  .ok());
  ASSERT_TRUE(ExecRaw("UPDATE deliveries SET envelope = 'envelope-m1'").ok());
  ASSERT_TRUE(OpenStore(&store_).ok());
  ExpectInClearSealedOnlyWhenAsked();
  EXPECT_EQ(Read("police/oslo").at(0).envelope, "envelope-m1");
  EXPECT_EQ(Read("pst/pst").at(0).envelope, "envelope-m1");
  Post(Message("m2", "k2"));
  EXPECT_EQ(Read("pst/pst").at(1).envelope, "envelope-m2");
  EXPECT_EQ(Count("deliveries WHERE same_as IS NOT NULL"), 1);
  EXPECT_EQ(Count("disclosures WHERE on_behalf_of = ''"), Count("disclosures"));
}

// A PostgreSQL database written before envelopes were shared (schema version 2) is migrated on
// open and reads back as it was; its status and stored receipts are read the same way.
TEST_F(PgStoreTest, ADatabaseFromSchemaVersion2IsMigratedAndReadsBack) {
  Post(Message("m1", "k1"));
  store_.reset();
  ASSERT_TRUE(
      ExecRaw("ALTER TABLE deliveries DROP COLUMN same_as; DROP INDEX disclosures_by_basis, "
              "disclosures_by_type, disclosures_by_outcome; "
              "ALTER TABLE disclosures DROP COLUMN on_behalf_of; DROP TABLE policy_texts; "
              "DROP TABLE data_keys; ALTER TABLE deliveries DROP COLUMN unreadable_at; "
              "DROP INDEX messages_by_time; ALTER TABLE deliveries DROP COLUMN erased_at; "
              "ALTER TABLE flags DROP COLUMN erased_at; UPDATE schema_version SET version = 2")
          .ok());
  ASSERT_TRUE(ExecRaw("UPDATE deliveries SET envelope = 'envelope-m1'").ok());
  ASSERT_TRUE(OpenStore(&store_).ok());
  ExpectInClearSealedOnlyWhenAsked();
  EXPECT_EQ(Read("police/oslo").at(0).envelope, "envelope-m1");
  EXPECT_EQ(Read("pst/pst").at(0).envelope, "envelope-m1");
  EXPECT_EQ(Post(Message("m1", "k1")).receipt.recipients,
            (std::vector<std::string>{"police/oslo", "pst/pst"}));
  Post(Message("m2", "k2"));
  EXPECT_EQ(Read("pst/pst").at(1).envelope, "envelope-m2");
  EXPECT_EQ(Count("deliveries WHERE same_as IS NOT NULL"), 1);
}

// A full disk fails the batch with RESOURCE_EXHAUSTED (retryable) and no receipt, and every
// message receipted before it survives a reopen once there is room again. The database is on a
// tmpfs of its own, so small that a few hundred posts fill it (mounting it needs root, as CI is).
TEST_F(SqliteStoreTest, AFullDiskFailsTheBatchRetryablyAndLosesNothingReceipted) {
  store_.reset();
  const testing::SmallTmpfs disk((dir_ / "small").string(), "2m");
  ASSERT_EQ(disk.error(), "");
  const fs::path small = disk.dir();
  std::unique_ptr<SqliteStore> store;
  ASSERT_TRUE(SqliteStore::Open({(small / "db").string(), "test", "0", 1}, &store).ok());
  store->SetDataKeys(testing::TestDataKeys());
  std::vector<std::string> receipted;
  Status failed;
  for (int i = 0; i < 100'000 && failed.ok(); ++i) {
    NewMessage m = Message("m" + std::to_string(i), "k" + std::to_string(i));
    m.recipients[0].envelope = std::string(2000, 'x') + std::to_string(i);
    std::vector<WriteOp> ops{PostOp{std::move(m), {}, {}}};
    failed = ApplyTo(*store, ops, 1000);
    if (failed.ok() && std::get<PostOp>(ops[0]).status.ok()) {
      receipted.push_back(std::get<PostOp>(ops[0]).receipt.message_id);
    }
  }
  EXPECT_EQ(failed.code(), Code::kResourceExhausted) << failed.message();
  ASSERT_GT(receipted.size(), 10u);
  store.reset();
  ASSERT_TRUE(disk.Resize("16m"));
  ASSERT_TRUE(SqliteStore::Open({(small / "db").string(), "test", "0", 1}, &store).ok());
  store->SetDataKeys(testing::TestDataKeys());
  std::vector<StoredDelivery> read;
  ASSERT_TRUE(store->ReadDeliveries("pst/pst", 0, false, 1'000'000, &read).ok());
  ASSERT_EQ(read.size(), receipted.size());
  for (size_t i = 0; i < read.size(); ++i) EXPECT_EQ(read[i].message_id, receipted[i]);
  EXPECT_EQ(store->LogSize(), 2 * receipted.size());
  store.reset();
}

TEST_F(SqliteStoreTest, TheWalIsCheckpointedIntoTheDatabaseInTheBackground) {
  ASSERT_TRUE(ReopenCheckpointingAt(10).ok());
  const auto size_before = fs::file_size(dir_ / "db");
  for (int i = 0; i < 50; ++i) {
    Post(Message("m" + std::to_string(i), "k" + std::to_string(i)));
  }
  // The checkpointer runs on its own thread; wait for it to copy pages into the database file.
  for (int i = 0; i < 500 && fs::file_size(dir_ / "db") <= size_before; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GT(fs::file_size(dir_ / "db"), size_before);
}

// Under steady writes the background checkpoint never catches up with the writer on its own; the
// writer finishing it lets the WAL restart, so the file stays near checkpoint_pages instead of
// growing by every commit.
TEST_F(SqliteStoreTest, TheWalStaysBoundedUnderSteadyWrites) {
  constexpr int kCheckpointPages = 200;
  ASSERT_TRUE(ReopenCheckpointingAt(kCheckpointPages).ok());
  // Ops that stop early (a repeated ack, a reused idempotency key) must not leave a statement
  // open on the writer: its read snapshot would hold every checkpoint back from then on.
  Post(Message("m", "k"));
  const uint64_t delivery = Read("police/oslo").at(0).delivery_id;
  Ack("police/oslo", {delivery});
  EXPECT_EQ(Ack("police/oslo", {delivery}).newly_acknowledged, 0u);
  NewMessage reused = Message("other", "k");
  reused.request_hash = "a different message";
  std::vector<WriteOp> reuse{PostOp{std::move(reused), {}, {}}};
  ASSERT_TRUE(Apply(reuse).ok());
  EXPECT_EQ(std::get<PostOp>(reuse[0]).status.code(), Code::kFailedPrecondition);
  uintmax_t largest = 0;
  for (int i = 0; i < 1000; ++i) {
    Post(Message("m" + std::to_string(i), "k" + std::to_string(i)));
    largest = std::max(largest, fs::file_size(dir_ / "db-wal"));
  }
  EXPECT_EQ(Count("messages"), 1001);
  // 1000 posts write about 20,000 frames (80 MB) into a WAL that is never restarted; restarted,
  // it stays within a few times checkpoint_pages (the background pass lags the writer).
  constexpr uintmax_t kFrameBytes = 24 + 4096;
  EXPECT_LT(largest, uintmax_t{8} * kCheckpointPages * kFrameBytes) << "WAL grew to " << largest;
}

// Readers hold snapshots that keep a checkpoint from finishing and the WAL from restarting;
// between their reads both happen. (A reader that never pauses starves any WAL: SQLite's rule.)
TEST_F(SqliteStoreTest, TheWalStaysBoundedWhileSubscribersRead) {
  constexpr int kCheckpointPages = 200;
  ASSERT_TRUE(ReopenCheckpointingAt(kCheckpointPages).ok());
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    while (!stop) {
      std::vector<StoredDelivery> out;
      EXPECT_TRUE(store_->ReadDeliveries("pst/pst", 0, true, 10, &out).ok());
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  uintmax_t largest = 0;
  for (int i = 0; i < 1000; ++i) {
    Post(Message("m" + std::to_string(i), "k" + std::to_string(i)));
    largest = std::max(largest, fs::file_size(dir_ / "db-wal"));
  }
  stop = true;
  reader.join();
  constexpr uintmax_t kFrameBytes = 24 + 4096;
  EXPECT_LT(largest, uintmax_t{16} * kCheckpointPages * kFrameBytes) << "WAL grew to " << largest;
}

// A form that made its flag's id when shown is sent twice: the second is ALREADY_EXISTS with the
// stored flag, storing nothing (no flag, no record), so the person is flagged once; the id
// used for another person is refused.
TEST_P(StoreTest, AFlagIdUsedAgainIsAlreadyExistsAndStoresNothing) {
  const FlagOp first = Flag("pst/pst", "f1", "flagged-subject");
  ASSERT_TRUE(first.status.ok());
  const int64_t records = Count("disclosures");
  const FlagOp again = Flag("pst/pst", "f1", "flagged-subject");
  EXPECT_EQ(again.status.code(), Code::kAlreadyExists);
  EXPECT_EQ(again.flag.flagged_at, first.flag.flagged_at);
  EXPECT_EQ(Flag("pst/pst", "f1", "another-subject").status.code(), Code::kFailedPrecondition);
  EXPECT_EQ(Count("flags"), 1);
  EXPECT_EQ(Count("disclosures"), records);
}

TEST_P(StoreTest, FlagsAreFoundByTheirSubjectAlsoAfterReopen) {
  ASSERT_TRUE(Flag("pst/pst", "f1", "flagged-subject").status.ok());
  auto flags_of = [&](const std::string& subject, bool include_inactive = false) {
    std::vector<FlagInfo> out;
    EXPECT_TRUE(store_->ListFlags(subject, include_inactive, 2000, &out).ok());
    std::vector<std::string> ids;
    ids.reserve(out.size());
    for (const FlagInfo& f : out) ids.push_back(f.flag_id);
    return ids;
  };
  EXPECT_EQ(flags_of("flagged-subject"), (std::vector<std::string>{"f1"}));
  EXPECT_TRUE(flags_of("someone-else").empty());
  Reopen();
  EXPECT_EQ(flags_of("flagged-subject"), (std::vector<std::string>{"f1"}));
  EXPECT_TRUE(flags_of("someone-else").empty());
  ASSERT_TRUE(Unflag("pst/pst", "f1").status.ok());
  EXPECT_TRUE(flags_of("flagged-subject").empty());
  EXPECT_EQ(flags_of("flagged-subject", true), (std::vector<std::string>{"f1"}));
  // An ended flag keeps its history: not even an administrator deletes it.
  ExpectRefusedByTrigger("DELETE FROM flags", "flags keep their history");
  if (backend_ == Backend::kPostgres)
    ExpectRefusedByTrigger("TRUNCATE flags", "flags keep their history");
  EXPECT_EQ(Count("flags"), 1);
}

// Only a flag's owner ends it, or a kind the catalogue's [registry] lets (PST ends anyone's);
// a refusal changes nothing and records nothing. Each act is one record.
TEST_P(StoreTest, FlagsAreEndedOnlyByTheirOwnerOrWhomTheRulesLetAndEachActIsARecord) {
  ASSERT_TRUE(Flag("pst/pst", "by-pst", "person-a").status.ok());
  ASSERT_TRUE(Flag("police/oslo", "by-police", "person-b").status.ok());
  EXPECT_EQ(Count("disclosures WHERE event = 'flag' AND outcome = 'recorded'"), 2);
  EXPECT_EQ(Count("disclosures WHERE event = 'flag' AND message_type = 'flag' AND "
                  "legal_basis = 'polregl-27-1' AND sender = 'pst/pst'"),
            1);
  const uint64_t before = store_->LogSize();
  const UnflagOp refused = Unflag("police/oslo", "by-pst");
  EXPECT_EQ(refused.status.code(), Code::kPermissionDenied) << refused.status.message();
  EXPECT_EQ(store_->LogSize(), before);
  std::vector<FlagInfo> flags;
  ASSERT_TRUE(store_->ListFlags("person-a", false, 2000, &flags).ok());
  EXPECT_EQ(IdsOf(flags), (std::vector<std::string>{"by-pst"}));  // Still active.
  EXPECT_EQ(Unflag("police/bergen", "by-police").status.code(), Code::kPermissionDenied);
  EXPECT_EQ(Unflag("police/oslo", "nope").status.code(), Code::kNotFound);

  const UnflagOp by_pst = Unflag("pst/pst", "by-police");
  ASSERT_TRUE(by_pst.status.ok()) << by_pst.status.message();
  EXPECT_EQ(by_pst.result.unflagged_by, "pst/pst");
  EXPECT_TRUE(Unflag("pst/pst", "by-pst").status.ok());
  EXPECT_EQ(Count("disclosures WHERE event = 'unflag' AND sender = 'pst/pst'"), 2);
  EXPECT_TRUE(Unflag("pst/pst", "by-pst").status.ok());  // Ended before: nothing recorded.
  EXPECT_EQ(Count("disclosures WHERE event = 'unflag'"), 2);
  flags.clear();
  ASSERT_TRUE(store_->ListFlags("person-b", false, 2000, &flags).ok());
  EXPECT_TRUE(flags.empty());
}

// A lookup shows the caller its own flags, and another party's only under a "flag" flow of
// that flag's basis, each such one a disclosure record; the lookup itself is a read record.
TEST_P(StoreTest, ALookupShowsWhatTheCatalogueLetsAndRecordsEachDisclosure) {
  ASSERT_TRUE(Flag("pst/pst", "shared", "person", "polregl-27-1").status.ok());
  ASSERT_TRUE(Flag("pst/pst", "kept", "person", "polregl-30").status.ok());  // No flag flow.
  ASSERT_TRUE(Flag("police/oslo", "own", "person").status.ok());
  ASSERT_TRUE(Flag("pst/pst", "other-person", "someone-else").status.ok());
  const ListFlagsOp police = Lookup("police/oslo", "person");
  ASSERT_TRUE(police.status.ok()) << police.status.message();
  EXPECT_EQ(IdsOf(police.flags), (std::vector<std::string>{"own", "shared"}));
  EXPECT_EQ(Count("disclosures WHERE event = 'disclose' AND sender = 'pst/pst' AND "
                  "recipient = 'police/oslo' AND message_type = 'flag' AND "
                  "legal_basis = 'polregl-27-1'"),
            1);
  EXPECT_EQ(Count("disclosures WHERE event = 'read' AND sender = 'police/oslo' AND "
                  "message_type = 'flag'"),
            1);
  // PST lists every flag: its own need no disclosure; the police flag is one.
  const ListFlagsOp all = Lookup("pst/pst", "");
  EXPECT_EQ(IdsOf(all.flags), (std::vector<std::string>{"other-person", "own", "kept", "shared"}));
  EXPECT_EQ(Count("disclosures WHERE event = 'disclose' AND recipient = 'pst/pst'"), 1);
  EXPECT_EQ(Count("disclosures WHERE event = 'disclose'"), 2);
}

TEST_P(StoreTest, GroupCommitterSharesTransactionsAndReportsEveryOp) {
  std::mutex mu;
  std::vector<size_t> batches;
  double seconds = 0;
  std::atomic<int> done{0};
  {
    GroupCommitter committer(store_.get(), 64, 1000,
                             [&](size_t n, const Status& /*transaction*/, double took) {
                               std::lock_guard lock(mu);
                               batches.push_back(n);
                               seconds += took;
                             });
    for (int i = 0; i < 200; ++i) {
      committer.Submit(PostOp{Message("m" + std::to_string(i), "k" + std::to_string(i)), {}, {}},
                       [&](WriteOp& op) {
                         EXPECT_TRUE(std::get<PostOp>(op).status.ok());
                         ++done;
                       });
    }
  }  // The destructor drains the queue.
  EXPECT_EQ(done.load(), 200);
  EXPECT_EQ(Count("messages"), 200);
  size_t total = 0;
  for (size_t b : batches) {
    EXPECT_LE(b, 64u);
    total += b;
  }
  EXPECT_EQ(total, 200u);
  EXPECT_LT(batches.size(), 200u);  // Submitted faster than fsync: ops shared commits.
  EXPECT_GT(seconds, 0);            // Each transaction's time is reported.
}

// A received mark nobody waits for rides with the next op a caller waits for (one transaction
// for both), and alone it is still committed.
TEST_P(StoreTest, GroupCommitterLetsReceivedMarksRideWithTheNextPost) {
  Post(Message("m1", "k1"));
  const std::vector<StoredDelivery> delivered = Read("police/oslo");
  ASSERT_EQ(delivered.size(), 1u);
  std::mutex mu;
  std::vector<size_t> batches;
  std::atomic<int> done{0};
  {
    GroupCommitter committer(store_.get(), 64, 1000, [&](size_t n, const Status&, double) {
      std::lock_guard lock(mu);
      batches.push_back(n);
    });
    committer.Submit(ReceivedOp{"police/oslo", delivered[0].delivery_id, {}},
                     [&](WriteOp& op) { done += std::get<ReceivedOp>(op).status.ok(); });
    committer.Submit(PostOp{Message("m2", "k2"), {}, {}},
                     [&](WriteOp& op) { done += std::get<PostOp>(op).status.ok(); });
    ASSERT_TRUE(testing::Eventually([&] { return done == 2; }));
    committer.Submit(ReceivedOp{"pst/pst", Read("pst/pst")[0].delivery_id, {}},
                     [&](WriteOp& op) { done += std::get<ReceivedOp>(op).status.ok(); });
    EXPECT_TRUE(testing::Eventually([&] { return done == 3; }));  // Alone, after a while.
  }
  std::lock_guard lock(mu);
  EXPECT_EQ(batches, (std::vector<size_t>{2, 1}));
  MessageState state;
  ASSERT_TRUE(store_->GetMessageState("m1", "correctional/oslo-fengsel", &state).ok());
  EXPECT_TRUE(state.recipients[0].received_at.has_value());
}

// A client's ops beyond the queue's bound are refused at once, retryably, and store nothing;
// the daemon's own ops are never refused.
TEST_P(StoreTest, GroupCommitterRefusesClientOpsBeyondItsBoundAndStoresNothingOfThem) {
  std::atomic<int> accepted{0};
  std::atomic<int> refused{0};
  std::mutex mu;
  std::vector<std::string> refused_keys;
  {
    GroupCommitter committer(store_.get(), 1, 2);
    for (int i = 0; i < 200; ++i) {
      const std::string key = "k" + std::to_string(i);
      committer.Submit(
          PostOp{Message("m" + std::to_string(i), key), {}, {}}, [&, key](WriteOp& op) {
            const Status& s = std::get<PostOp>(op).status;
            if (s.ok()) {
              ++accepted;
              return;
            }
            EXPECT_EQ(s.code(), Code::kResourceExhausted);
            EXPECT_NE(s.message().find("store.max_queued_ops"), std::string::npos) << s.message();
            ++refused;
            std::lock_guard lock(mu);
            refused_keys.push_back(key);
          });
    }
  }
  EXPECT_EQ(accepted + refused, 200);
  EXPECT_GT(refused.load(), 0);  // Submitted faster than one-op commits drain.
  EXPECT_EQ(Count("messages"), accepted.load());
  for (const std::string& key : refused_keys) {
    EXPECT_EQ(Count("messages WHERE idempotency_key = '" + key + "'"), 0) << key;
  }
}

// A read waits for a reader connection at most reader_wait, then is UNAVAILABLE (retryable)
// rather than holding its thread while every reader is stuck (here behind a table lock).
TEST_F(PgStoreTest, AReadThatFindsNoReaderFreeInTimeIsUnavailable) {
  Post(Message("m1", "k1"));
  std::unique_ptr<PgStore> store;
  ASSERT_TRUE(PgStore::Open({.conninfo = ConnInfo(),
                             .instance = "test",
                             .version = "0",
                             .readers = 1,
                             .reader_wait = std::chrono::milliseconds(300),
                             .allow_fsync_off = true},
                            &store)
                  .ok());
  store->SetDataKeys(testing::TestDataKeys());
  std::unique_ptr<PgConn> locker;
  ASSERT_TRUE(PgConn::Connect(ConnInfo(), "", nullptr, &locker).ok());
  ASSERT_TRUE(locker->Exec("BEGIN; LOCK TABLE deliveries IN ACCESS EXCLUSIVE MODE").ok());
  Status stuck_read;
  std::thread stuck([&] {
    std::vector<StoredDelivery> out;
    stuck_read = store->ReadDeliveries("pst/pst", 0, false, 10, &out);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // It holds the one reader.
  const auto start = std::chrono::steady_clock::now();
  std::vector<StoredDelivery> out;
  const Status refused = store->ReadDeliveries("pst/pst", 0, false, 10, &out);
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(refused.code(), Code::kUnavailable);
  EXPECT_EQ(refused.message(), "store: every reader connection stayed busy for 300 ms");
  EXPECT_LT(waited, std::chrono::seconds(5));
  locker->Rollback();
  stuck.join();
  EXPECT_TRUE(stuck_read.ok()) << stuck_read.message();
}

// Several daemons on one database: each appends under the log lock, reloading the right edge
// another left, so there is one log, in commit order, whichever daemon is asked.
TEST_F(PgStoreTest, DaemonsTakingTurnsAppendToOneLog) {
  std::unique_ptr<Store> other;
  ASSERT_TRUE(OpenStore(&other).ok());
  std::vector<StoredCheckpoint> checkpoints;
  for (int i = 0; i < 6; ++i) {
    Store& daemon = i % 2 == 0 ? *store_ : *other;
    PostTo(daemon,
           Message("m" + std::to_string(i), "k" + std::to_string(i), {"police/oslo"}, {"pst/pst"}));
    checkpoints.push_back(CheckpointOf(daemon, 2000 + i));
    EXPECT_EQ(checkpoints.back().tree_size, 2u * (i + 1));
  }
  std::vector<LogEntry> log;
  ASSERT_TRUE(other->ReadLog(0, 12, 100, &log).ok());
  ASSERT_EQ(log.size(), 12u);
  for (uint64_t i = 0; i < log.size(); ++i) {
    EXPECT_EQ(log[i].record.index(), i);
    EXPECT_EQ(log[i].leaf_hash, merkle::RecordLeafHash(log[i].record)) << i;
  }
  EXPECT_EQ(log[2].record.message_id(), "m1");  // Appended by the other daemon.
  for (const StoredCheckpoint& c : checkpoints) {
    EXPECT_EQ(c.root, RootOfRecords(log, c.tree_size));
    // Either daemon proves what the other appended.
    std::vector<std::string> proof;
    ASSERT_TRUE(store_->InclusionProof(c.tree_size - 1, c.tree_size, &proof).ok());
    EXPECT_TRUE(merkle::VerifyInclusion(log[c.tree_size - 1].leaf_hash, c.tree_size - 1,
                                        c.tree_size, proof, c.root)
                    .ok());
    ASSERT_TRUE(store_->ConsistencyProof(c.tree_size, 12, &proof).ok());
    EXPECT_TRUE(
        merkle::VerifyConsistency(c.tree_size, 12, proof, c.root, checkpoints.back().root).ok());
  }
  // A daemon that has not written since sees the newest head once it commits.
  EXPECT_EQ(store_->LogSize(), 10u);
  EXPECT_EQ(Checkpoint(3000).tree_size, 12u);
  EXPECT_EQ(store_->LogSize(), 12u);
  EXPECT_EQ(Count("checkpoints"), 6);
  EXPECT_EQ(Count("log_head WHERE size = 12"), 1);
}

TEST_F(PgStoreTest, DaemonsPostingAtOnceKeepTheLogWhole) {
  std::unique_ptr<Store> other;
  ASSERT_TRUE(OpenStore(&other).ok());
  constexpr int kPerDaemon = 40;
  auto run = [&](Store* daemon, const std::string& prefix) {
    GroupCommitter committer(daemon, 8, 1000);
    for (int i = 0; i < kPerDaemon; ++i) {
      const std::string id = prefix + std::to_string(i);
      committer.Submit(PostOp{Message(id, id), {}, {}},
                       [](WriteOp& op) { EXPECT_TRUE(std::get<PostOp>(op).status.ok()); });
    }
  };
  std::thread a(run, store_.get(), "a");
  std::thread b(run, other.get(), "b");
  a.join();
  b.join();
  EXPECT_EQ(Count("messages"), 2 * kPerDaemon);
  const StoredCheckpoint c = Checkpoint(5000);
  ASSERT_EQ(c.tree_size, 4u * kPerDaemon);
  std::vector<LogEntry> log;
  ASSERT_TRUE(other->ReadLog(0, c.tree_size, 1000, &log).ok());
  ASSERT_EQ(log.size(), c.tree_size);
  for (uint64_t i = 0; i < log.size(); ++i) {
    EXPECT_EQ(log[i].record.index(), i);
    EXPECT_EQ(log[i].leaf_hash, merkle::RecordLeafHash(log[i].record)) << i;
  }
  EXPECT_EQ(c.root, RootOfRecords(log, c.tree_size));
  EXPECT_EQ(Count("merkle_nodes WHERE level = 0"), 4 * kPerDaemon);
}

TEST_F(PgStoreTest, TwoDaemonsEscalatingOneDeliveryAtOnceEscalateItOnce) {
  std::unique_ptr<Store> other;
  ASSERT_TRUE(OpenStore(&other).ok());
  NewMessage m = Message("m1", "k1", {"municipality/0301"});
  m.recipients[0].ack_deadline = 5000;
  Post(std::move(m), 1000);
  const uint64_t id = Read("municipality/0301").at(0).delivery_id;
  auto escalation = [](const std::string& message_id) {
    NewMessage e = Message(message_id, "escalation-" + message_id, {"police/oslo"});
    e.sender = "infoflytd";
    e.event = "escalate";
    return e;
  };
  std::vector<WriteOp> first{EscalateOp{id, escalation("e1"), {}, {}}};
  std::vector<WriteOp> second{EscalateOp{id, escalation("e2"), {}, {}}};
  std::barrier start(2);
  std::thread a([&] {
    start.arrive_and_wait();
    EXPECT_TRUE(ApplyTo(*store_, first, 6000).ok());
  });
  std::thread b([&] {
    start.arrive_and_wait();
    EXPECT_TRUE(ApplyTo(*other, second, 6000).ok());
  });
  a.join();
  b.join();
  const Status& s1 = std::get<EscalateOp>(first[0]).status;
  const Status& s2 = std::get<EscalateOp>(second[0]).status;
  EXPECT_NE(s1.ok(), s2.ok()) << s1.message() << " / " << s2.message();
  EXPECT_EQ((s1.ok() ? s2 : s1).code(), Code::kFailedPrecondition);
  EXPECT_EQ(Count("messages WHERE sender = 'infoflytd'"), 1);
  EXPECT_EQ(Count("disclosures WHERE event = 'escalate'"), 1);
  EXPECT_EQ(Count("deliveries WHERE escalated_at IS NOT NULL"), 1);
}

TEST_F(PgStoreTest, OneKeyPostedToTwoDaemonsAtOnceIsStoredOnce) {
  std::unique_ptr<Store> other;
  ASSERT_TRUE(OpenStore(&other).ok());
  PostOp first;
  PostOp second;
  std::barrier start(2);
  std::thread a([&] {
    start.arrive_and_wait();
    first = PostTo(*store_, Message("m1", "k1"));
  });
  std::thread b([&] {
    start.arrive_and_wait();
    second = PostTo(*other, Message("m2", "k1"));
  });
  a.join();
  b.join();
  ASSERT_TRUE(first.status.ok()) << first.status.message();
  ASSERT_TRUE(second.status.ok()) << second.status.message();
  EXPECT_NE(first.receipt.duplicate, second.receipt.duplicate);
  EXPECT_EQ(first.receipt.message_id, second.receipt.message_id);
  EXPECT_EQ(first.receipt.recipients, second.receipt.recipients);
  EXPECT_EQ(Count("messages"), 1);
  EXPECT_EQ(Count("disclosures"), 2);
}

TEST_F(PgStoreTest, DaemonsOpeningANewDatabaseAtOnceMigrateItOnce) {
  store_.reset();
  ASSERT_TRUE(PgCluster::Shared().CreateDatabase(&database_).ok());
  std::unique_ptr<Store> a_store;
  std::unique_ptr<Store> b_store;
  Status a_status;
  Status b_status;
  std::thread a([&] { a_status = OpenStore(&a_store); });
  std::thread b([&] { b_status = OpenStore(&b_store); });
  a.join();
  b.join();
  ASSERT_TRUE(a_status.ok()) << a_status.message();
  ASSERT_TRUE(b_status.ok()) << b_status.message();
  EXPECT_EQ(Count("schema_version"), 1);
  PostTo(*a_store, Message("m1", "k1"));
  EXPECT_TRUE(PostTo(*b_store, Message("m2", "k1")).receipt.duplicate);
}

// A lost connection fails the batch as retryable and stores nothing; the next batch after the
// server is back reconnects.
TEST_F(PgStoreTest, ALostConnectionIsUnavailableAndTheNextCallReconnects) {
  Post(Message("m1", "k1"));
  auto admin = [&](const std::string& sql) {
    std::unique_ptr<PgConn> conn;
    Status s = PgConn::Connect(PgCluster::Shared().ConnInfo("postgres"), "", nullptr, &conn);
    if (s.ok()) s = conn->Exec(sql.c_str());
    EXPECT_TRUE(s.ok()) << s.message();
  };
  // Nobody may connect, and the store's sessions are ended.
  admin("ALTER DATABASE " + database_ + " ALLOW_CONNECTIONS false");
  admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + database_ +
        "'");
  std::vector<WriteOp> ops{PostOp{Message("m2", "k2"), {}, {}}};
  EXPECT_EQ(Apply(ops).code(), Code::kUnavailable);
  std::vector<StoredDelivery> deliveries;
  EXPECT_EQ(store_->ReadDeliveries("police/oslo", 0, true, 10, &deliveries).code(),
            Code::kUnavailable);
  admin("ALTER DATABASE " + database_ + " ALLOW_CONNECTIONS true");
  std::vector<WriteOp> again{PostOp{Message("m2", "k2"), {}, {}}};
  ASSERT_TRUE(Apply(again).ok());
  EXPECT_TRUE(std::get<PostOp>(again[0]).status.ok());
  EXPECT_FALSE(std::get<PostOp>(again[0]).receipt.duplicate);
  EXPECT_EQ(Read("police/oslo").size(), 2u);
  EXPECT_EQ(Checkpoint().root, RootOfRecords(WholeLog(), 4));
}

TEST_F(PgStoreTest, ALogHeadOutOfStepWithTheRecordsIsRefusedAtOpen) {
  Post(Message("m1", "k1"));
  store_.reset();
  ASSERT_TRUE(ExecRaw("UPDATE log_head SET size = 1").ok());
  std::unique_ptr<Store> store;
  const Status s = OpenStore(&store);
  EXPECT_EQ(s.code(), Code::kInternal);
  EXPECT_NE(s.message().find("out of step"), std::string::npos) << s.message();
}

TEST_F(PgStoreTest, TextAndBytesRoundTripExactly) {
  NewMessage m = Message("m1", "k1", {"police/oslo"});
  m.subject_hash = std::string("\0\xff\x01 subject", 11);  // Bytes, not text.
  m.recipients[0].envelope = std::string("\0\x80\xfe envelope", 12);
  m.recipients[0].content_hash = std::string(32, '\0');
  Post(m);
  const auto deliveries = Read("police/oslo");
  ASSERT_EQ(deliveries.size(), 1u);
  EXPECT_EQ(deliveries[0].envelope, m.recipients[0].envelope);
  RecordFilter f;
  f.subject_hash = m.subject_hash;
  std::vector<v1::DisclosureRecord> records;
  ASSERT_TRUE(store_->QueryRecords(f, 0, 10, &records).ok());
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].subject_hash(), m.subject_hash);
  EXPECT_EQ(records[0].content_hash(), m.recipients[0].content_hash);
  EXPECT_EQ(records[0].legal_citation(), "straffegjennomføringsloven § 4 i");
}

}  // namespace
}  // namespace infoflyt
