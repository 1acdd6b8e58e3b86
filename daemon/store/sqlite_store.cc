#include "store/sqlite_store.h"

#include <string>

#include "base/log.h"

namespace infoflyt {
namespace {

// Schema version 1. Messages hold the envelope once; deliveries are per recipient and carry the
// delivery/ack state; disclosure records are append-only facts for auditors.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE messages (
  id INTEGER PRIMARY KEY,
  message_id TEXT NOT NULL UNIQUE,
  sender TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  request_hash BLOB NOT NULL,
  message_type TEXT NOT NULL,
  legal_basis TEXT NOT NULL,
  handling TEXT NOT NULL,
  accepted_at INTEGER NOT NULL,
  UNIQUE (sender, idempotency_key)
);
CREATE TABLE deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  message INTEGER NOT NULL REFERENCES messages(id),
  recipient TEXT NOT NULL,
  envelope BLOB NOT NULL,
  received_at INTEGER,
  acked_at INTEGER
);
CREATE INDEX deliveries_by_recipient ON deliveries (recipient, id);
CREATE INDEX deliveries_unacked ON deliveries (recipient, id) WHERE acked_at IS NULL;
CREATE INDEX deliveries_by_message ON deliveries (message);
CREATE TABLE disclosures (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  occurred_at INTEGER NOT NULL,
  event TEXT NOT NULL,
  outcome TEXT NOT NULL,
  message_id TEXT NOT NULL,
  delivery_id INTEGER,
  sender TEXT NOT NULL,
  recipient TEXT NOT NULL,
  subject_hash BLOB NOT NULL,
  message_type TEXT NOT NULL,
  legal_basis TEXT NOT NULL,
  legal_citation TEXT NOT NULL,
  handling TEXT NOT NULL,
  view TEXT NOT NULL,
  content_hash BLOB NOT NULL,
  reason TEXT NOT NULL,
  sender_certificate_subject TEXT NOT NULL,
  sender_certificate_fingerprint TEXT NOT NULL,
  instance TEXT NOT NULL,
  version TEXT NOT NULL
);
CREATE INDEX disclosures_by_message ON disclosures (message_id);
CREATE TABLE flags (
  id INTEGER PRIMARY KEY,
  flag_id TEXT NOT NULL UNIQUE,
  subject_hash BLOB NOT NULL,
  reason TEXT NOT NULL,
  flagged_by TEXT NOT NULL,
  legal_basis TEXT NOT NULL,
  flagged_at INTEGER NOT NULL,
  expires_at INTEGER,
  unflagged_at INTEGER,
  unflagged_by TEXT
);
CREATE INDEX flags_by_subject ON flags (subject_hash);
CREATE TRIGGER flags_no_delete BEFORE DELETE ON flags
  BEGIN SELECT RAISE(ABORT, 'flags keep their history'); END;
CREATE TRIGGER disclosures_no_update BEFORE UPDATE ON disclosures
  BEGIN SELECT RAISE(ABORT, 'disclosure records are append-only'); END;
CREATE TRIGGER disclosures_no_delete BEFORE DELETE ON disclosures
  BEGIN SELECT RAISE(ABORT, 'disclosure records are append-only'); END;
)sql";

// Version 2: acknowledgement deadlines and their escalation. The partial index holds exactly
// the deliveries the escalation timer still watches.
constexpr const char* kSchemaV2 = R"sql(
ALTER TABLE deliveries ADD COLUMN ack_deadline INTEGER;
ALTER TABLE deliveries ADD COLUMN escalated_at INTEGER;
CREATE INDEX deliveries_watched ON deliveries (ack_deadline)
  WHERE ack_deadline IS NOT NULL AND acked_at IS NULL AND escalated_at IS NULL;
)sql";

// Migration i brings the schema from version i to i + 1, each in its own transaction.
constexpr const char* kMigrations[] = {kSchemaV1, kSchemaV2};
constexpr int64_t kSchemaVersion = std::size(kMigrations);

Status Unavailable(SqliteDb& db, std::string_view what) {
  return {Code::kUnavailable, "store: " + std::string(what) + ": " + db.LastError()};
}

Status Migrate(SqliteDb& db) {
  auto& version_stmt = db.Prepare("PRAGMA user_version");
  if (version_stmt.Step() != SQLITE_ROW) return Unavailable(db, "reading schema version");
  const int64_t version = version_stmt.Int(0);
  version_stmt.Reset();
  if (version > kSchemaVersion) {
    return {Code::kFailedPrecondition, "database schema version " + std::to_string(version) +
                                           " is newer than this binary knows (" +
                                           std::to_string(kSchemaVersion) + ")"};
  }
  for (int64_t v = version; v < kSchemaVersion; ++v) {
    if (Status s = db.Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
    Status s = db.Exec(kMigrations[v]);
    if (s.ok()) s = db.Exec(("PRAGMA user_version = " + std::to_string(v + 1)).c_str());
    if (!s.ok()) {
      (void)db.Exec("ROLLBACK");
      return s;
    }
    if (s = db.Exec("COMMIT"); !s.ok()) return s;
    LogInfo("store schema migrated to version " + std::to_string(v + 1));
  }
  return Status::Ok();
}

}  // namespace

class SqliteStore::ReaderLease {
 public:
  explicit ReaderLease(SqliteStore* store) : store_(store) {
    std::unique_lock lock(store_->readers_mu_);
    store_->readers_cv_.wait(lock, [&] { return !store_->idle_readers_.empty(); });
    db_ = std::move(store_->idle_readers_.back());
    store_->idle_readers_.pop_back();
  }
  ~ReaderLease() {
    {
      std::lock_guard lock(store_->readers_mu_);
      store_->idle_readers_.push_back(std::move(db_));
    }
    store_->readers_cv_.notify_one();
  }
  ReaderLease(const ReaderLease&) = delete;
  ReaderLease& operator=(const ReaderLease&) = delete;
  SqliteDb& db() { return *db_; }

 private:
  SqliteStore* store_;
  std::unique_ptr<SqliteDb> db_;
};

Status SqliteStore::Open(const SqliteStoreOptions& options, std::unique_ptr<SqliteStore>* out) {
  std::unique_ptr<SqliteStore> store(new SqliteStore(options));
  if (Status s = SqliteDb::Open(options.path, &store->writer_); !s.ok()) return s;
  SqliteDb& w = *store->writer_;
  // WAL: readers never block the writer. synchronous=FULL: every commit is fsynced, so a
  // receipt is only sent for data that survives power loss.
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
                             "PRAGMA foreign_keys=ON", "PRAGMA cache_size=-65536"}) {
    if (Status s = w.Exec(pragma); !s.ok()) return s;
  }
  if (Status s = Migrate(w); !s.ok()) return s;
  if (Status s = SqliteDb::Open(options.path, &store->checkpointer_db_); !s.ok()) return s;
  // A connection only learns the database is in WAL mode once it has read it; until then a
  // checkpoint through it silently does nothing.
  if (Status s = store->checkpointer_db_->Exec("PRAGMA journal_mode=WAL"); !s.ok()) return s;
  sqlite3_wal_autocheckpoint(w.handle(), 0);
  sqlite3_wal_hook(w.handle(), &SqliteStore::OnWalCommit, store.get());
  store->checkpointer_ = std::thread([s = store.get()] { s->RunCheckpointer(); });
  for (int i = 0; i < options.readers; ++i) {
    std::unique_ptr<SqliteDb> reader;
    if (Status s = SqliteDb::Open(options.path, &reader); !s.ok()) return s;
    if (Status s = reader->Exec("PRAGMA query_only=ON"); !s.ok()) return s;
    store->idle_readers_.push_back(std::move(reader));
  }
  *out = std::move(store);
  return Status::Ok();
}

SqliteStore::~SqliteStore() {
  {
    std::lock_guard lock(checkpoint_mu_);
    stopping_ = true;
  }
  checkpoint_cv_.notify_one();
  if (checkpointer_.joinable()) checkpointer_.join();
}

int SqliteStore::OnWalCommit(void* self, sqlite3* /*db*/, const char* /*name*/, int pages) {
  auto* store = static_cast<SqliteStore*>(self);
  if (pages >= store->options_.checkpoint_pages) {
    {
      std::lock_guard lock(store->checkpoint_mu_);
      store->checkpoint_wanted_ = true;
    }
    store->checkpoint_cv_.notify_one();
  }
  return SQLITE_OK;
}

void SqliteStore::RunCheckpointer() {
  while (true) {
    {
      std::unique_lock lock(checkpoint_mu_);
      checkpoint_cv_.wait(lock, [&] { return stopping_ || checkpoint_wanted_; });
      if (stopping_) return;
      checkpoint_wanted_ = false;
    }
    // PASSIVE never blocks the writer or readers; the writer restarts the WAL from the
    // beginning once a checkpoint has caught up with it.
    int wal_pages = 0;
    int checkpointed = 0;
    const int rc = sqlite3_wal_checkpoint_v2(checkpointer_db_->handle(), nullptr,
                                             SQLITE_CHECKPOINT_PASSIVE, &wal_pages, &checkpointed);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
      LogWarning("sqlite checkpoint failed: " + checkpointer_db_->LastError());
    }
  }
}

Status SqliteStore::Apply(std::span<WriteOp* const> ops, int64_t now) {
  SqliteDb& w = *writer_;
  if (Status s = w.Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  for (WriteOp* op : ops) {
    // Each op in its own savepoint: a refused op rolls back alone, the batch goes on.
    if (Status s = w.Exec("SAVEPOINT op"); !s.ok()) {
      (void)w.Exec("ROLLBACK");
      return s;
    }
    Status op_status = ApplyOne(*op, now);
    if (op_status.code() == Code::kUnavailable) {  // The database itself failed.
      (void)w.Exec("ROLLBACK");
      return op_status;
    }
    if (!op_status.ok() && !w.Exec("ROLLBACK TO op").ok()) {
      (void)w.Exec("ROLLBACK");
      return Unavailable(w, "rolling back an op");
    }
    if (Status s = w.Exec("RELEASE op"); !s.ok()) {
      (void)w.Exec("ROLLBACK");
      return s;
    }
  }
  if (Status s = w.Exec("COMMIT"); !s.ok()) {
    (void)w.Exec("ROLLBACK");
    return s;
  }
  return Status::Ok();
}

Status SqliteStore::ApplyOne(WriteOp& op, int64_t now) {
  return std::visit(
      [&](auto& o) -> Status {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, PostOp>) {
          o.status = ApplyPost(o, now);
        } else if constexpr (std::is_same_v<T, AckOp>) {
          o.status = ApplyAck(o, now);
        } else if constexpr (std::is_same_v<T, FlagOp>) {
          o.status = ApplyFlag(o, now);
        } else if constexpr (std::is_same_v<T, UnflagOp>) {
          o.status = ApplyUnflag(o, now);
        } else if constexpr (std::is_same_v<T, EscalateOp>) {
          o.status = ApplyEscalate(o, now);
        } else {
          o.status = ApplyReceived(o, now);
        }
        return o.status;
      },
      op);
}

Status SqliteStore::LoadReceipt(int64_t message_pk, StoredReceipt* receipt) {
  auto& q =
      writer_->Prepare("SELECT recipient FROM deliveries WHERE message = ? ORDER BY recipient");
  q.Bind(1, message_pk);
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) receipt->recipients.push_back(q.Text(0));
  if (rc != SQLITE_DONE) return Unavailable(*writer_, "reading recipients");
  auto& r = writer_->Prepare(
      "SELECT recipient, reason FROM disclosures WHERE message_id = ? AND outcome = 'refused' "
      "ORDER BY recipient");
  r.Bind(1, receipt->message_id);
  while ((rc = r.Step()) == SQLITE_ROW) receipt->refusals.push_back({r.Text(0), r.Text(1)});
  return rc == SQLITE_DONE ? Status::Ok() : Unavailable(*writer_, "reading refusals");
}

Status SqliteStore::InsertDisclosureRecord(const NewMessage& m, int64_t now, bool disclosed,
                                           int64_t delivery_id, const RecipientDisclosure& basis,
                                           const std::string& recipient, const std::string& view,
                                           const std::string& content_hash,
                                           const std::string& reason) {
  auto& record = writer_->Prepare(
      "INSERT INTO disclosures (occurred_at, event, outcome, message_id, delivery_id, sender, "
      "recipient, subject_hash, message_type, legal_basis, legal_citation, handling, view, "
      "content_hash, reason, sender_certificate_subject, sender_certificate_fingerprint, "
      "instance, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  record.Bind(1, now).Bind(2, disclosed ? m.event : "refuse");
  record.Bind(3, disclosed ? "disclosed" : "refused").Bind(4, m.message_id);
  if (disclosed) {
    record.Bind(5, delivery_id);
  } else {
    record.BindNull(5);
  }
  record.Bind(6, m.sender).Bind(7, recipient).BindBlob(8, m.subject_hash);
  const bool own_basis = basis.legal_basis.empty();
  record.Bind(9, m.message_type).Bind(10, own_basis ? m.legal_basis : basis.legal_basis);
  record.Bind(11, own_basis ? m.legal_citation : basis.legal_citation);
  record.Bind(12, m.handling).Bind(13, view).BindBlob(14, content_hash).Bind(15, reason);
  record.Bind(16, m.sender_certificate_subject).Bind(17, m.sender_certificate_fingerprint);
  record.Bind(18, options_.instance).Bind(19, options_.version);
  return record.Step() == SQLITE_DONE ? Status::Ok()
                                      : Unavailable(*writer_, "inserting disclosure record");
}

Status SqliteStore::ApplyPost(PostOp& op, int64_t now) {
  SqliteDb& w = *writer_;
  const NewMessage& m = op.message;
  auto& existing = w.Prepare(
      "SELECT id, message_id, request_hash, accepted_at FROM messages "
      "WHERE sender = ? AND idempotency_key = ?");
  existing.Bind(1, m.sender).Bind(2, m.idempotency_key);
  const int rc = existing.Step();
  if (rc == SQLITE_ROW) {
    if (existing.Text(2) != m.request_hash) {
      return {Code::kFailedPrecondition,
              "envelope.idempotency_key: already used by this party for a different message"};
    }
    op.receipt.message_id = existing.Text(1);
    op.receipt.accepted_at = existing.Int(3);
    op.receipt.duplicate = true;
    const int64_t pk = existing.Int(0);
    existing.Reset();
    return LoadReceipt(pk, &op.receipt);
  }
  if (rc != SQLITE_DONE) return Unavailable(w, "looking up idempotency key");
  return InsertMessage(m, now, &op.receipt);
}

Status SqliteStore::InsertMessage(const NewMessage& m, int64_t now, StoredReceipt* receipt) {
  SqliteDb& w = *writer_;
  *receipt = {m.message_id, {}, m.refusals, now, false};
  for (const RecipientRefusal& refusal : m.refusals) {
    if (Status s =
            InsertDisclosureRecord(m, now, false, 0, {}, refusal.party, "", "", refusal.reason);
        !s.ok()) {
      return s;
    }
  }
  if (m.recipients.empty()) return Status::Ok();  // Refused outright: only the records stay.

  auto& insert = w.Prepare(
      "INSERT INTO messages (message_id, sender, idempotency_key, request_hash, message_type, "
      "legal_basis, handling, accepted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  insert.Bind(1, m.message_id).Bind(2, m.sender).Bind(3, m.idempotency_key);
  insert.BindBlob(4, m.request_hash).Bind(5, m.message_type).Bind(6, m.legal_basis);
  insert.Bind(7, m.handling).Bind(8, now);
  if (insert.Step() != SQLITE_DONE) return Unavailable(w, "inserting message");
  const int64_t message_pk = w.LastInsertRowid();

  for (const RecipientDisclosure& r : m.recipients) {
    auto& delivery = w.Prepare(
        "INSERT INTO deliveries (message, recipient, envelope, ack_deadline) VALUES (?, ?, ?, ?)");
    delivery.Bind(1, message_pk).Bind(2, r.party).BindBlob(3, r.envelope);
    if (r.ack_deadline) {
      delivery.Bind(4, *r.ack_deadline);
    } else {
      delivery.BindNull(4);
    }
    if (delivery.Step() != SQLITE_DONE) return Unavailable(w, "inserting delivery");
    if (Status s = InsertDisclosureRecord(m, now, true, w.LastInsertRowid(), r, r.party, r.view,
                                          r.content_hash, r.note);
        !s.ok()) {
      return s;
    }
    receipt->recipients.push_back(r.party);
  }
  return Status::Ok();
}

Status SqliteStore::ApplyEscalate(EscalateOp& op, int64_t now) {
  auto& mark = writer_->Prepare(
      "UPDATE deliveries SET escalated_at = ? WHERE id = ? AND ack_deadline IS NOT NULL "
      "AND acked_at IS NULL AND escalated_at IS NULL");
  mark.Bind(1, now).Bind(2, static_cast<int64_t>(op.delivery_id));
  if (mark.Step() != SQLITE_DONE) return Unavailable(*writer_, "marking escalated");
  if (writer_->Changes() != 1) {
    return {Code::kFailedPrecondition,
            "delivery " + std::to_string(op.delivery_id) +
                " has no open deadline (acknowledged, already escalated or none)"};
  }
  return InsertMessage(op.escalation, now, &op.receipt);
}

Status SqliteStore::ApplyAck(AckOp& op, int64_t now) {
  SqliteDb& w = *writer_;
  op.newly_acknowledged = 0;
  for (size_t i = 0; i < op.delivery_ids.size(); ++i) {
    const auto id = static_cast<int64_t>(op.delivery_ids[i]);
    auto& update = w.Prepare(
        "UPDATE deliveries SET acked_at = ?, received_at = coalesce(received_at, ?) "
        "WHERE id = ? AND recipient = ? AND acked_at IS NULL");
    update.Bind(1, now).Bind(2, now).Bind(3, id).Bind(4, op.party);
    if (update.Step() != SQLITE_DONE) return Unavailable(w, "acknowledging");
    if (w.Changes() == 1) {
      ++op.newly_acknowledged;
      continue;
    }
    auto& exists = w.Prepare("SELECT 1 FROM deliveries WHERE id = ? AND recipient = ?");
    exists.Bind(1, id).Bind(2, op.party);
    const int rc = exists.Step();
    if (rc == SQLITE_DONE) {
      return {Code::kNotFound, "delivery_ids[" + std::to_string(i) + "]: no delivery " +
                                   std::to_string(id) + " addressed to this party"};
    }
    if (rc != SQLITE_ROW) return Unavailable(w, "acknowledging");
  }
  return Status::Ok();
}

Status SqliteStore::ApplyReceived(ReceivedOp& op, int64_t now) {
  auto& update = writer_->Prepare(
      "UPDATE deliveries SET received_at = ? "
      "WHERE id = ? AND recipient = ? AND received_at IS NULL");
  update.Bind(1, now).Bind(2, static_cast<int64_t>(op.delivery_id)).Bind(3, op.party);
  return update.Step() == SQLITE_DONE ? Status::Ok() : Unavailable(*writer_, "marking received");
}

}  // namespace infoflyt

namespace infoflyt {

Status SqliteStore::ReadDeliveries(std::string_view party, uint64_t from_id, bool unacked_only,
                                   size_t limit, std::vector<StoredDelivery>* out) {
  ReaderLease lease(this);
  SqliteDb& r = lease.db();
  // Two literal queries rather than one with a flag, so SQLite can use the partial index.
  auto& q = unacked_only ? r.Prepare(
                               "SELECT d.id, m.message_id, m.sender, m.accepted_at, d.envelope, 0 "
                               "FROM deliveries d JOIN messages m ON m.id = d.message "
                               "WHERE d.recipient = ? AND d.id >= ? AND d.acked_at IS NULL "
                               "ORDER BY d.id LIMIT ?")
                         : r.Prepare(
                               "SELECT d.id, m.message_id, m.sender, m.accepted_at, d.envelope, "
                               "d.acked_at IS NOT NULL "
                               "FROM deliveries d JOIN messages m ON m.id = d.message "
                               "WHERE d.recipient = ? AND d.id >= ? ORDER BY d.id LIMIT ?");
  q.Bind(1, party).Bind(2, static_cast<int64_t>(from_id)).Bind(3, static_cast<int64_t>(limit));
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    out->push_back({static_cast<uint64_t>(q.Int(0)), q.Text(1), q.Text(2), q.Int(3), q.Text(4),
                    q.Int(5) != 0});
  }
  q.Reset();
  return rc == SQLITE_DONE ? Status::Ok() : Unavailable(r, "reading deliveries");
}

Status SqliteStore::GetMessageState(std::string_view message_id, std::string_view sender,
                                    MessageState* out) {
  ReaderLease lease(this);
  SqliteDb& r = lease.db();
  auto& q = r.Prepare(
      "SELECT m.message_type, m.accepted_at, d.recipient, d.received_at, d.acked_at, "
      "d.ack_deadline, d.escalated_at FROM messages m JOIN deliveries d ON d.message = m.id "
      "WHERE m.message_id = ? AND m.sender = ? ORDER BY d.recipient");
  q.Bind(1, message_id).Bind(2, sender);
  MessageState state;
  state.message_id = std::string(message_id);
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    state.message_type = q.Text(0);
    state.posted_at = q.Int(1);
    RecipientState recipient;
    recipient.party = q.Text(2);
    if (!q.IsNull(3)) recipient.received_at = q.Int(3);
    if (!q.IsNull(4)) recipient.acknowledged_at = q.Int(4);
    if (!q.IsNull(5)) recipient.ack_deadline = q.Int(5);
    if (!q.IsNull(6)) recipient.escalated_at = q.Int(6);
    state.recipients.push_back(std::move(recipient));
  }
  q.Reset();
  if (rc != SQLITE_DONE) return Unavailable(r, "reading message status");
  if (state.recipients.empty())
    return {Code::kNotFound, "message_id: no such message from this party"};
  *out = std::move(state);
  return Status::Ok();
}

Status SqliteStore::ListOverdue(int64_t now, size_t limit, std::vector<OverdueDelivery>* out) {
  ReaderLease lease(this);
  SqliteDb& r = lease.db();
  auto& q = r.Prepare(
      "SELECT d.id, d.recipient, d.ack_deadline, d.received_at, m.message_id, m.sender, "
      "m.message_type, m.handling, m.accepted_at, x.subject_hash, x.legal_basis, "
      "x.legal_citation FROM deliveries d JOIN messages m ON m.id = d.message "
      "JOIN disclosures x ON x.message_id = m.message_id AND x.delivery_id = d.id "
      "WHERE d.ack_deadline <= ? AND d.ack_deadline IS NOT NULL AND d.acked_at IS NULL "
      "AND d.escalated_at IS NULL ORDER BY d.ack_deadline LIMIT ?");
  q.Bind(1, now).Bind(2, static_cast<int64_t>(limit));
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    OverdueDelivery o;
    o.delivery_id = static_cast<uint64_t>(q.Int(0));
    o.recipient = q.Text(1);
    o.deadline = q.Int(2);
    if (!q.IsNull(3)) o.received_at = q.Int(3);
    o.message_id = q.Text(4);
    o.sender = q.Text(5);
    o.message_type = q.Text(6);
    o.handling = q.Text(7);
    o.posted_at = q.Int(8);
    o.subject_hash = q.Text(9);
    o.legal_basis = q.Text(10);
    o.legal_citation = q.Text(11);
    out->push_back(std::move(o));
  }
  q.Reset();
  return rc == SQLITE_DONE ? Status::Ok() : Unavailable(r, "reading overdue deliveries");
}

Status SqliteStore::NextDeadline(std::optional<int64_t>* out) {
  ReaderLease lease(this);
  SqliteDb& r = lease.db();
  auto& q = r.Prepare(
      "SELECT min(ack_deadline) FROM deliveries WHERE ack_deadline IS NOT NULL "
      "AND acked_at IS NULL AND escalated_at IS NULL");
  const int rc = q.Step();
  if (rc != SQLITE_ROW) return Unavailable(r, "reading the next deadline");
  *out = q.IsNull(0) ? std::nullopt : std::optional<int64_t>(q.Int(0));
  q.Reset();
  return Status::Ok();
}

namespace {

FlagInfo FlagFromRow(const SqliteStatement& q) {
  FlagInfo f{q.Text(0), q.Text(1),    q.Text(2),    q.Text(3),
             q.Int(4),  std::nullopt, std::nullopt, q.Text(7)};
  if (!q.IsNull(5)) f.expires_at = q.Int(5);
  if (!q.IsNull(6)) f.unflagged_at = q.Int(6);
  return f;
}

}  // namespace

Status SqliteStore::ApplyFlag(FlagOp& op, int64_t now) {
  auto& insert = writer_->Prepare(
      "INSERT INTO flags (flag_id, subject_hash, reason, flagged_by, legal_basis, flagged_at, "
      "expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
  const FlagInfo& f = op.flag;
  insert.Bind(1, f.flag_id).BindBlob(2, op.subject_hash).Bind(3, f.reason).Bind(4, f.flagged_by);
  insert.Bind(5, f.legal_basis).Bind(6, now);
  if (f.expires_at) {
    insert.Bind(7, *f.expires_at);
  } else {
    insert.BindNull(7);
  }
  if (insert.Step() != SQLITE_DONE) return Unavailable(*writer_, "inserting flag");
  op.flag.flagged_at = now;
  return Status::Ok();
}

Status SqliteStore::ApplyUnflag(UnflagOp& op, int64_t now) {
  auto& update = writer_->Prepare(
      "UPDATE flags SET unflagged_at = ?, unflagged_by = ? "
      "WHERE flag_id = ? AND unflagged_at IS NULL");
  update.Bind(1, now).Bind(2, op.party).Bind(3, op.flag_id);
  if (update.Step() != SQLITE_DONE) return Unavailable(*writer_, "unflagging");
  auto& q = writer_->Prepare(
      "SELECT flag_id, reason, flagged_by, legal_basis, flagged_at, expires_at, unflagged_at, "
      "unflagged_by FROM flags WHERE flag_id = ?");
  q.Bind(1, op.flag_id);
  const int rc = q.Step();
  if (rc == SQLITE_DONE) return {Code::kNotFound, "flag_id: no such flag"};
  if (rc != SQLITE_ROW) return Unavailable(*writer_, "reading flag");
  op.result = FlagFromRow(q);
  q.Reset();
  return Status::Ok();
}

Status SqliteStore::ListFlags(std::string_view subject_hash, bool include_inactive, int64_t now,
                              std::vector<FlagInfo>* out) {
  ReaderLease lease(this);
  SqliteDb& r = lease.db();
  auto& q = subject_hash.empty()
                ? r.Prepare(
                      "SELECT flag_id, reason, flagged_by, legal_basis, flagged_at, expires_at, "
                      "unflagged_at, unflagged_by FROM flags ORDER BY id DESC")
                : r.Prepare(
                      "SELECT flag_id, reason, flagged_by, legal_basis, flagged_at, expires_at, "
                      "unflagged_at, unflagged_by FROM flags WHERE subject_hash = ? "
                      "ORDER BY id DESC");
  if (!subject_hash.empty()) q.BindBlob(1, subject_hash);
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    FlagInfo f = FlagFromRow(q);
    if (include_inactive || f.ActiveAt(now)) out->push_back(std::move(f));
  }
  q.Reset();
  return rc == SQLITE_DONE ? Status::Ok() : Unavailable(r, "reading flags");
}

}  // namespace infoflyt
