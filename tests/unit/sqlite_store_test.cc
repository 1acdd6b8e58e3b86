// Store conformance: behaviour every Store implementation must have, run here on a real SQLite
// file. Written against the Store interface so another backend can be added as a parameter.
#include "store/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <thread>

#include "merkle/compact_range.h"
#include "merkle/merkle_hash.h"
#include "merkle/proof.h"
#include "merkle/record_leaf.h"
#include "store/group_committer.h"

namespace infoflyt {
namespace {

namespace fs = std::filesystem;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("infoflyt-store-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  void Reopen() {
    store_.reset();
    const Status s = SqliteStore::Open({(dir_ / "db").string(), "test", "0", 2}, &store_);
    ASSERT_TRUE(s.ok()) << s.message();
  }

  static NewMessage Message(const std::string& id, const std::string& key,
                            std::vector<std::string> recipients = {"police/oslo", "pst/pst"},
                            std::vector<std::string> refused = {}) {
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
    for (auto& r : recipients)
      m.recipients.push_back({r, "envelope-" + id, "*", "h-" + id, "", "", "", std::nullopt});
    for (auto& r : refused) m.refusals.push_back({r, "not allowed"});
    return m;
  }

  // Applies ops one batch; returns the transaction status.
  Status Apply(std::vector<WriteOp>& ops, int64_t now = 1000) {
    std::vector<WriteOp*> ptrs;
    for (auto& op : ops) ptrs.push_back(&op);
    return store_->Apply(ptrs, now);
  }
  PostOp Post(NewMessage m, int64_t now = 1000) {
    std::vector<WriteOp> ops{PostOp{std::move(m), {}, {}}};
    EXPECT_TRUE(Apply(ops, now).ok());
    return std::get<PostOp>(ops[0]);
  }
  AckOp Ack(const std::string& party, std::vector<uint64_t> ids) {
    std::vector<WriteOp> ops{AckOp{party, std::move(ids), {}, 0}};
    EXPECT_TRUE(Apply(ops).ok());
    return std::get<AckOp>(ops[0]);
  }
  std::vector<StoredDelivery> Read(const std::string& party, uint64_t from = 0,
                                   bool unacked = true) {
    std::vector<StoredDelivery> out;
    EXPECT_TRUE(store_->ReadDeliveries(party, from, unacked, 100, &out).ok());
    return out;
  }
  int64_t Count(const char* table) {
    sqlite3* db = nullptr;
    sqlite3_open((dir_ / "db").c_str(), &db);
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db, (std::string("SELECT count(*) FROM ") + table).c_str(), -1, &stmt,
                       nullptr);
    sqlite3_step(stmt);
    const int64_t n = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return n;
  }

  // Signs nothing: the "note" names size and root, enough to check what was committed to.
  StoredCheckpoint Checkpoint(int64_t now = 2000) {
    CheckpointOp op;
    op.sign = [](uint64_t size, const std::string& root, std::string* note) {
      *note = std::to_string(size) + ":" + root;
      return Status::Ok();
    };
    std::vector<WriteOp> ops{std::move(op)};
    EXPECT_TRUE(Apply(ops, now).ok());
    EXPECT_TRUE(std::get<CheckpointOp>(ops[0]).status.ok());
    return std::get<CheckpointOp>(ops[0]).checkpoint;
  }
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

  fs::path dir_;
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(StoreTest, PostStoresOneDeliveryAndOneDisclosurePerRecipient) {
  const PostOp op = Post(Message("m1", "k1"));
  ASSERT_TRUE(op.status.ok());
  EXPECT_FALSE(op.receipt.duplicate);
  EXPECT_EQ(op.receipt.recipients, (std::vector<std::string>{"police/oslo", "pst/pst"}));
  EXPECT_EQ(Count("messages"), 1);
  EXPECT_EQ(Count("deliveries"), 2);
  EXPECT_EQ(Count("disclosures"), 2);
}

TEST_F(StoreTest, SameIdempotencyKeyReturnsTheFirstReceiptAndStoresNothing) {
  Post(Message("m1", "k1"), 1000);
  const PostOp again = Post(Message("m2", "k1"), 2000);
  ASSERT_TRUE(again.status.ok());
  EXPECT_TRUE(again.receipt.duplicate);
  EXPECT_EQ(again.receipt.message_id, "m1");
  EXPECT_EQ(again.receipt.accepted_at, 1000);
  EXPECT_EQ(Count("messages"), 1);
  EXPECT_EQ(Count("disclosures"), 2);
}

TEST_F(StoreTest, ReusedKeyForADifferentMessageIsRefused) {
  Post(Message("m1", "k1"));
  NewMessage other = Message("m2", "k1");
  other.request_hash = "different";
  const PostOp op = Post(other);
  EXPECT_EQ(op.status.code(), Code::kFailedPrecondition);
  EXPECT_EQ(Count("messages"), 1);
}

TEST_F(StoreTest, DuplicateWithinOneBatchIsDetected) {
  std::vector<WriteOp> ops{PostOp{Message("m1", "k1"), {}, {}},
                           PostOp{Message("m2", "k1"), {}, {}}};
  ASSERT_TRUE(Apply(ops).ok());
  EXPECT_TRUE(std::get<PostOp>(ops[1]).receipt.duplicate);
  EXPECT_EQ(std::get<PostOp>(ops[1]).receipt.message_id, "m1");
  EXPECT_EQ(Count("messages"), 1);
}

TEST_F(StoreTest, DeliveriesComeInOrderPerRecipientAndAcksHideThem) {
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
  auto unacked = Read("police/oslo");
  ASSERT_EQ(unacked.size(), 1u);
  EXPECT_EQ(unacked[0].message_id, "m3");
  auto replay = Read("police/oslo", oslo[0].delivery_id, false);
  ASSERT_EQ(replay.size(), 2u);
  EXPECT_TRUE(replay[0].acknowledged);
  EXPECT_FALSE(replay[1].acknowledged);
  EXPECT_EQ(Read("pst/pst").size(), 3u);
}

TEST_F(StoreTest, AckOfAnotherPartysDeliveryChangesNothing) {
  Post(Message("m1", "k1"));
  const auto pst = Read("pst/pst");
  const auto oslo = Read("police/oslo");
  const AckOp op = Ack("police/oslo", {oslo[0].delivery_id, pst[0].delivery_id});
  EXPECT_EQ(op.status.code(), Code::kNotFound);
  EXPECT_NE(op.status.message().find("delivery_ids[1]"), std::string::npos);
  EXPECT_EQ(Read("police/oslo").size(), 1u);  // The first id was rolled back too.
}

TEST_F(StoreTest, RefusedRecipientsGetARecordAndNoDelivery) {
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

TEST_F(StoreTest, PostRefusedForEveryRecipientStoresOnlyTheRefusals) {
  const PostOp op = Post(Message("m1", "k1", {}, {"police/oslo", "pst/pst"}));
  ASSERT_TRUE(op.status.ok());
  EXPECT_TRUE(op.receipt.recipients.empty());
  EXPECT_EQ(Count("messages"), 0);
  EXPECT_EQ(Count("deliveries"), 0);
  EXPECT_EQ(Count("disclosures WHERE outcome = 'refused'"), 2);
}

TEST_F(StoreTest, MessageStateIsOnlyForTheSender) {
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

TEST_F(StoreTest, CommittedDataSurvivesReopen) {
  Post(Message("m1", "k1"));
  Reopen();
  EXPECT_EQ(Read("police/oslo").size(), 1u);
  EXPECT_TRUE(Post(Message("m2", "k1")).receipt.duplicate);
}

TEST_F(StoreTest, DisclosureRecordsAreAppendOnly) {
  Post(Message("m1", "k1"));
  sqlite3* db = nullptr;
  sqlite3_open((dir_ / "db").c_str(), &db);
  EXPECT_NE(sqlite3_exec(db, "UPDATE disclosures SET recipient = 'x'", nullptr, nullptr, nullptr),
            SQLITE_OK);
  EXPECT_NE(sqlite3_exec(db, "DELETE FROM disclosures", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  EXPECT_EQ(Count("disclosures"), 2);
}

TEST_F(StoreTest, RefusesADatabaseFromANewerVersion) {
  store_.reset();
  sqlite3* db = nullptr;
  sqlite3_open((dir_ / "db").c_str(), &db);
  sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  std::unique_ptr<SqliteStore> store;
  const Status s = SqliteStore::Open({(dir_ / "db").string(), "t", "0", 1}, &store);
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("newer"), std::string::npos);
}

TEST_F(StoreTest, OverdueDeliveriesAreEscalatedExactlyOnce) {
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

TEST_F(StoreTest, AcknowledgedDeliveriesAreNeverOverdue) {
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

TEST_F(StoreTest, EveryRecordIsALeafOfTheLogInOrder) {
  Post(Message("m1", "k1", {"police/oslo", "pst/pst"}, {"municipality/0301"}));
  Post(Message("m2", "k2", {}, {"municipality/0301"}));  // Refused outright: a record still.
  std::vector<WriteOp> read{
      AuditReadOp{"auditor/riksrevisjonen", "CN=a", "ff", "subject", "QueryDisclosures", {}, 0}};
  ASSERT_TRUE(Apply(read).ok());
  EXPECT_EQ(std::get<AuditReadOp>(read[0]).index, 4u);
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

TEST_F(StoreTest, ProofsFromStoredNodesVerifyAgainstCheckpoints) {
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

TEST_F(StoreTest, TheLogContinuesAcrossReopenAndItsNodesAreAppendOnly) {
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
  sqlite3* db = nullptr;
  sqlite3_open((dir_ / "db").c_str(), &db);
  EXPECT_NE(sqlite3_exec(db, "DELETE FROM merkle_nodes", nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_NE(sqlite3_exec(db, "UPDATE checkpoints SET note = ''", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
}

TEST_F(StoreTest, QueriesFilterByPersonPartyBasisTypeOutcomeAndTime) {
  NewMessage other = Message("m2", "k2", {"police/vest"});
  other.subject_hash = "someone-else";
  Post(Message("m1", "k1", {"police/oslo", "pst/pst"}, {"municipality/0301"}), 1000);
  Post(std::move(other), 2000);
  auto query = [&](RecordFilter f, uint64_t from = 0, size_t limit = 100) {
    std::vector<v1::DisclosureRecord> out;
    EXPECT_TRUE(store_->QueryRecords(f, from, limit, &out).ok());
    std::vector<uint64_t> indexes;
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

TEST_F(StoreTest, TheWalIsCheckpointedIntoTheDatabaseInTheBackground) {
  store_.reset();
  SqliteStoreOptions options{(dir_ / "db").string(), "test", "0", 1};
  options.checkpoint_pages = 10;
  ASSERT_TRUE(SqliteStore::Open(options, &store_).ok());
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

TEST_F(StoreTest, GroupCommitterSharesTransactionsAndReportsEveryOp) {
  std::mutex mu;
  std::vector<size_t> batches;
  std::atomic<int> done{0};
  {
    GroupCommitter committer(store_.get(), 64, [&](size_t n) {
      std::lock_guard lock(mu);
      batches.push_back(n);
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
}

}  // namespace
}  // namespace infoflyt
