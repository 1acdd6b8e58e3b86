#include "store/sqlite_store.h"

#include <pthread.h>

#include <algorithm>
#include <limits>
#include <string>

#include "base/clock.h"
#include "base/log.h"
#include "merkle/proof.h"
#include "store/record_columns.h"
#include "store/sqlite_schema.h"

namespace infoflyt {
namespace {

// Log nodes as stored, read through one connection.
class SqliteStoredNodes final : public StoredNodes {
 public:
  explicit SqliteStoredNodes(SqliteDb& db) : db_(db) {}
  Status Read(std::span<const merkle::NodeId> ids,
              std::vector<std::optional<std::string>>* hashes) const override {
    hashes->clear();
    for (const merkle::NodeId& id : ids) {
      auto& q = db_.Prepare("SELECT hash FROM merkle_nodes WHERE level = ? AND idx = ?");
      q.Bind(1, int64_t{id.level}).Bind(2, static_cast<int64_t>(id.index));
      const int rc = q.Step();
      if (rc == SQLITE_ROW) {
        hashes->emplace_back(q.Text(0));
      } else if (rc == SQLITE_DONE) {
        hashes->emplace_back();
      } else {
        return db_.Failure("reading log nodes");
      }
      q.Reset();
    }
    return Status::Ok();
  }
  Status ReadLeaves(uint64_t begin, uint64_t end, std::vector<std::string>* hashes) const override {
    auto& q = db_.Prepare(
        "SELECT hash FROM merkle_nodes WHERE level = 0 AND idx >= ? AND idx < ? ORDER BY idx");
    q.Bind(1, static_cast<int64_t>(begin)).Bind(2, static_cast<int64_t>(end));
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) hashes->push_back(q.Text(0));
    q.Reset();
    return rc == SQLITE_DONE ? Status::Ok() : db_.Failure("reading log leaves");
  }

 private:
  SqliteDb& db_;
};

// A negative cache_size is in KiB. The OS keeps the file's pages cached too; SQLite's own cache
// saves the copy from it and holds dirty pages until commit.
Status SetCacheSize(SqliteDb& db, int mib) {
  return db.Exec(("PRAGMA cache_size=-" + std::to_string(int64_t{mib} * 1024)).c_str());
}

// A pragma's current value on `db`, as text ("" if it cannot be read).
std::string PragmaValue(SqliteDb& db, const std::string& name) {
  SqliteStatement q = db.PrepareOnce("PRAGMA " + name);
  return q.Step() == SQLITE_ROW ? q.Text(0) : "";
}

// PRAGMA synchronous answers with a number.
std::string SynchronousName(const std::string& value) {
  static constexpr const char* kNames[] = {"off", "normal", "full", "extra"};
  return value.size() == 1 && value[0] >= '0' && value[0] <= '3' ? kNames[value[0] - '0'] : value;
}

// The columns FlagFromColumns reads.
constexpr const char* kFlagById =
    "SELECT flag_id, reason, flagged_by, legal_basis, flagged_at, expires_at, unflagged_at, "
    "unflagged_by, subject_hash FROM flags WHERE flag_id = ?";
constexpr const char* kFlagsBySubject =
    "SELECT flag_id, reason, flagged_by, legal_basis, flagged_at, expires_at, unflagged_at, "
    "unflagged_by, subject_hash FROM flags WHERE subject_hash = ? ORDER BY id DESC";
constexpr const char* kAllFlags =
    "SELECT flag_id, reason, flagged_by, legal_basis, flagged_at, expires_at, unflagged_at, "
    "unflagged_by, subject_hash FROM flags WHERE erased_at IS NULL ORDER BY id DESC";
constexpr const char* kEndedFlags =
    "SELECT flag_id, reason, flagged_by, legal_basis, flagged_at, expires_at, unflagged_at, "
    "unflagged_by, subject_hash FROM flags WHERE erased_at IS NULL AND "
    "(unflagged_at IS NOT NULL OR expires_at <= ?) ORDER BY id";

// Flag `flag_id` through `db` (nullopt if none).
Status FindFlagIn(SqliteDb& db, std::string_view flag_id, std::optional<FlagInfo>* out) {
  auto& q = db.Prepare(kFlagById);
  q.Bind(1, flag_id);
  const int rc = q.Step();
  if (rc == SQLITE_ROW) *out = FlagFromColumns(q);
  q.Reset();
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? Status::Ok() : db.Failure("reading flag");
}

// The flags on `subject_hash` (all if empty) through `db`, newest first.
Status ReadFlagsIn(SqliteDb& db, std::string_view subject_hash, bool include_inactive, int64_t now,
                   std::vector<FlagInfo>* out) {
  auto& q = subject_hash.empty() ? db.Prepare(kAllFlags) : db.Prepare(kFlagsBySubject);
  if (!subject_hash.empty()) q.BindBlob(1, subject_hash);
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    FlagInfo f = FlagFromColumns(q);
    if (include_inactive || f.ActiveAt(now)) out->push_back(std::move(f));
  }
  q.Reset();
  return rc == SQLITE_DONE ? Status::Ok() : db.Failure("reading flags");
}

// An auditor's scope as conditions on the records of `table` ("" or an alias with its "."),
// with BindScope binding their values from parameter `i` on (returning the next).
std::string ScopeConditions(const ScopeFilter& scope, const std::string& table) {
  std::string sql;
  for (size_t p = 0; p < scope.excluded_prefixes.size(); ++p) {
    sql += " AND " + table + "sender NOT LIKE ? AND " + table + "recipient NOT LIKE ? AND " +
           table + "on_behalf_of NOT LIKE ?";
  }
  if (!scope.reader.empty()) {
    sql += " AND NOT (" + table + "event = 'read' AND " + table + "sender LIKE 'auditor/%' AND " +
           table + "sender <> ?)";
  }
  return sql;
}

int BindScope(SqliteStatement& q, int i, const ScopeFilter& scope) {
  for (const std::string& prefix : scope.excluded_prefixes) {
    for (int column = 0; column < 3; ++column) q.Bind(i++, prefix + "%");
  }
  if (!scope.reader.empty()) q.Bind(i++, scope.reader);
  return i;
}

std::optional<int64_t> OptionalInt(const SqliteStatement& q, int column) {
  if (q.IsNull(column)) return std::nullopt;
  return q.Int(column);
}

}  // namespace

Status SqliteStore::Open(const SqliteStoreOptions& options, std::unique_ptr<SqliteStore>* out) {
  std::unique_ptr<SqliteStore> store(new SqliteStore(options));
  if (Status s = SqliteDb::Open(options.path, &store->writer_); !s.ok()) return s;
  SqliteDb& w = *store->writer_;
  // WAL: readers never block the writer. synchronous=FULL: every commit is fsynced, so a
  // receipt is only sent for data that survives power loss. secure_delete: a value replaced
  // (a body resealed or sealed after an upgrade) is overwritten in the file, not left in a free
  // page for a copied file to show.
  for (const char* pragma :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON",
        "PRAGMA temp_store=MEMORY", "PRAGMA secure_delete=ON"}) {
    if (Status s = w.Exec(pragma); !s.ok()) return s;
  }
  if (Status s = SetCacheSize(w, options.cache_mib); !s.ok()) return s;
  // A burst (or a long reader) can leave a large WAL; trim it when it restarts.
  const std::string wal_limit =
      "PRAGMA journal_size_limit=" + std::to_string(int64_t{2} * options.checkpoint_pages * 4096);
  if (Status s = w.Exec(wal_limit.c_str()); !s.ok()) return s;
  if (Status s = MigrateSqliteSchema(w); !s.ok()) return s;
  if (Status s = store->OpenLog(); !s.ok()) return s;
  if (Status s = store->LoadFlaggedSubjects(); !s.ok()) return s;
  if (Status s = SqliteDb::Open(options.path, &store->checkpointer_db_); !s.ok()) return s;
  // Copy what a crash or OpenLog left in the WAL, and start the writer's count of WAL pages from
  // what remains (none if all was copied: the next commit restarts the WAL).
  int wal_frames = 0;
  int copied = 0;
  if (sqlite3_wal_checkpoint_v2(w.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &wal_frames,
                                &copied) == SQLITE_OK &&
      copied < wal_frames) {
    store->last_wal_pages_ = wal_frames;
  }
  // A connection only learns the database is in WAL mode once it has read it; until then a
  // checkpoint through it silently does nothing.
  if (Status s = store->checkpointer_db_->Exec("PRAGMA journal_mode=WAL"); !s.ok()) return s;
  // It fsyncs the database file before the WAL may be overwritten: as durable as the writer.
  if (Status s = store->checkpointer_db_->Exec("PRAGMA synchronous=FULL"); !s.ok()) return s;
  if (Status s = store->ReadBackDurability(); !s.ok()) return s;
  sqlite3_wal_autocheckpoint(w.handle(), 0);
  sqlite3_wal_hook(w.handle(), &SqliteStore::OnWalCommit, store.get());
  store->checkpointer_ = std::thread([s = store.get()] { s->RunCheckpointer(); });
  for (int i = 0; i < options.readers; ++i) {
    std::unique_ptr<SqliteDb> reader;
    if (Status s = SqliteDb::Open(options.path, &reader); !s.ok()) return s;
    if (Status s = reader->Exec("PRAGMA query_only=ON"); !s.ok()) return s;
    if (Status s = SetCacheSize(*reader, options.cache_mib); !s.ok()) return s;
    store->readers_.Add(std::move(reader));
  }
  *out = std::move(store);
  return Status::Ok();
}

Status SqliteStore::ReadBackDurability() {
  // Asked, not assumed: journal_mode=WAL silently stays what it was where WAL cannot work.
  durability_ = {
      {"journal_mode", PragmaValue(*writer_, "journal_mode")},
      {"synchronous", SynchronousName(PragmaValue(*writer_, "synchronous"))},
      {"checkpoint_synchronous", SynchronousName(PragmaValue(*checkpointer_db_, "synchronous"))}};
  for (const DurabilitySetting& setting : durability_) {
    const char* wanted = setting.name == "journal_mode" ? "wal" : "full";
    if (setting.value != wanted) {
      return {Code::kFailedPrecondition, "sqlite " + options_.path + ": " + setting.name + " is " +
                                             setting.value + ", not " + wanted +
                                             ": commits would not be durable"};
    }
  }
  return Status::Ok();
}

SqliteStore::SqliteStore(SqliteStoreOptions options)
    : options_(std::move(options)), core_(options_.instance, options_.version) {}

SqliteStore::~SqliteStore() {
  {
    std::lock_guard lock(checkpoint_mu_);
    stopping_ = true;
  }
  checkpoint_cv_.notify_one();
  if (checkpointer_.joinable()) checkpointer_.join();
}

int SqliteStore::OnWalCommit(void* self, sqlite3* /*db*/, const char* /*name*/, int pages) {
  static_cast<SqliteStore*>(self)->AfterCommit(pages);
  return SQLITE_OK;
}

// A checkpoint running beside the writer never catches up with it: new frames arrive while it
// copies, the WAL is never wholly copied, so it is never restarted and grows by every commit
// (343 MB after six seconds of the exchange benchmark, each commit extending the file). So the
// background connection copies the bulk, and the writer, between transactions where no frame can
// arrive, copies the remainder; its next commit then starts the WAL over from the beginning.
void SqliteStore::AfterCommit(int wal_pages) {
  if (wal_pages < last_wal_pages_) {
    // Restarted (also when the background checkpoint caught up while the writer was idle).
    std::lock_guard lock(checkpoint_mu_);
    NoteWalRestart();
  }
  // The writer copies at most an eighth of the threshold plus about one commit's frames, unless
  // the background passes do not keep up (a slow disk): past four times the threshold it copies
  // whatever is left after each pass, so the WAL is bounded either way.
  const int writer_share = wal_pages >= 4 * options_.checkpoint_pages
                               ? wal_pages
                               : options_.checkpoint_pages / 8 + (wal_pages - last_wal_pages_);
  last_wal_pages_ = wal_pages;
  if (wal_pages < options_.checkpoint_pages) return;
  {
    std::lock_guard lock(checkpoint_mu_);
    if (!background_reported_ || wal_pages - backfilled_frames_ > writer_share) {
      checkpoint_wanted_ = true;
      checkpoint_cv_.notify_one();
      return;
    }
    // If readers keep this from finishing, the background connection copies what they release
    // and the writer tries again only after that pass: at most one database fsync per pass.
    background_reported_ = false;
  }
  int wal_frames = 0;
  int copied = 0;
  const int rc = sqlite3_wal_checkpoint_v2(writer_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                           &wal_frames, &copied);
  if (rc == SQLITE_OK && copied == wal_frames) {
    // The next commit restarts the WAL, however many frames it writes.
    std::lock_guard lock(checkpoint_mu_);
    NoteWalRestart();
    last_wal_pages_ = 0;
  } else if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
    LogWarning("sqlite checkpoint failed: " + writer_->LastError());
  }
}

void SqliteStore::NoteWalRestart() {
  backfilled_frames_ = 0;
  background_reported_ = false;
  ++wal_restarts_;
}

void SqliteStore::RunCheckpointer() {
  pthread_setname_np(pthread_self(), "wal-checkpoint");  // Named for top -H, perf and gdb.
  while (true) {
    uint64_t wal = 0;
    {
      std::unique_lock lock(checkpoint_mu_);
      checkpoint_cv_.wait(lock, [&] { return stopping_ || checkpoint_wanted_; });
      if (stopping_) return;
      checkpoint_wanted_ = false;
      wal = wal_restarts_;
    }
    // PASSIVE never blocks the writer or readers.
    int wal_frames = 0;
    int copied = 0;
    const int rc = sqlite3_wal_checkpoint_v2(checkpointer_db_->handle(), nullptr,
                                             SQLITE_CHECKPOINT_PASSIVE, &wal_frames, &copied);
    if (rc == SQLITE_OK) {
      std::lock_guard lock(checkpoint_mu_);
      if (wal == wal_restarts_) {
        backfilled_frames_ = copied;
        background_reported_ = true;
      }
    } else if (rc != SQLITE_BUSY) {
      LogWarning("sqlite checkpoint failed: " + checkpointer_db_->LastError());
    }
  }
}

// The writer's rows, for the store core.
class SqliteStore::Rows final : public StoreRows {
 public:
  explicit Rows(SqliteStore* store) : store_(store), w_(*store->writer_), nodes_(w_) {}

  Status Begin() override { return w_.Run("BEGIN IMMEDIATE"); }
  Status Savepoint() override { return w_.Run("SAVEPOINT op"); }
  Status RollbackToSavepoint() override { return w_.Run("ROLLBACK TO op"); }
  Status ReleaseSavepoint() override { return w_.Run("RELEASE op"); }
  Status EndOp() override { return Status::Ok(); }  // Every statement was answered.
  Status Commit(std::span<WriteOp* const> /*ops*/) override {
    // A statement stepped to a row and not reset would keep a read snapshot open on the writer
    // past the commit, holding back every checkpoint from then on.
    w_.ResetStatements();
    return w_.Run("COMMIT");
  }
  void Rollback() override { (void)w_.Run("ROLLBACK"); }
  // One daemon per database file: its own log size is the log's.
  Status LockLogHead(std::optional<uint64_t>* /*size*/) override { return Status::Ok(); }
  Status SetLogHead(uint64_t /*size*/) override { return Status::Ok(); }
  const StoredNodes& Nodes() override { return nodes_; }

  Status FindMessage(std::string_view sender, std::string_view idempotency_key,
                     std::optional<ExistingMessage>* out) override {
    auto& q = w_.Prepare(
        "SELECT message_id, request_hash, accepted_at FROM messages "
        "WHERE sender = ? AND idempotency_key = ?");
    q.Bind(1, sender).Bind(2, idempotency_key);
    const int rc = q.Step();
    if (rc == SQLITE_ROW) *out = ExistingMessage{q.Text(0), q.Text(1), q.Int(2)};
    q.Reset();
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? Status::Ok()
                                                 : w_.Failure("looking up idempotency key");
  }

  Status ReadOutcomes(std::string_view message_id, StoredReceipt* receipt) override {
    auto& q = w_.Prepare(
        "SELECT recipient FROM disclosures WHERE message_id = ? "
        "AND outcome = 'disclosed' AND on_behalf_of = '' ORDER BY recipient");
    q.Bind(1, message_id);
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) receipt->recipients.push_back(q.Text(0));
    if (rc != SQLITE_DONE) return w_.Failure("reading recipients");
    auto& r = w_.Prepare(
        "SELECT recipient, reason FROM disclosures WHERE message_id = ? AND outcome = 'refused' "
        "AND on_behalf_of = '' ORDER BY recipient");
    r.Bind(1, message_id);
    while ((rc = r.Step()) == SQLITE_ROW) receipt->refusals.push_back({r.Text(0), r.Text(1), ""});
    return rc == SQLITE_DONE ? Status::Ok() : w_.Failure("reading refusals");
  }

  Status InsertMessage(const NewMessage& m, int64_t now, std::optional<int64_t>* id) override {
    auto& q = w_.Prepare(
        "INSERT INTO messages (message_id, sender, idempotency_key, request_hash, message_type, "
        "legal_basis, handling, accepted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (sender, idempotency_key) DO NOTHING");
    q.Bind(1, m.message_id).Bind(2, m.sender).Bind(3, m.idempotency_key);
    q.BindBlob(4, m.request_hash).Bind(5, m.message_type).Bind(6, m.legal_basis);
    q.Bind(7, m.handling).Bind(8, now);
    if (q.Step() != SQLITE_DONE) return w_.Failure("inserting message");
    if (w_.Changes() == 1) *id = w_.LastInsertRowid();
    return Status::Ok();
  }

  Status InsertDeliveries(int64_t message, const NewMessage& m,
                          const std::vector<std::optional<size_t>>& same_as,
                          const std::vector<std::string>& sealed,
                          std::vector<int64_t>* ids) override {
    for (size_t i = 0; i < m.recipients.size(); ++i) {
      const RecipientDisclosure& r = m.recipients[i];
      auto& q = w_.Prepare(
          "INSERT INTO deliveries (message, recipient, envelope, ack_deadline, same_as) "
          "VALUES (?, ?, ?, ?, ?)");
      q.Bind(1, message).Bind(2, r.party);
      if (same_as[i]) {
        q.BindEmptyBlob(3).Bind(5, (*ids)[*same_as[i]]);
      } else {
        q.BindBlob(3, sealed[i]).BindNull(5);
      }
      BindOptional(q, 4, r.ack_deadline);
      if (q.Step() != SQLITE_DONE) return w_.Failure("inserting delivery");
      ids->push_back(w_.LastInsertRowid());
    }
    return Status::Ok();
  }

  Status InsertRecord(const v1::DisclosureRecord& r) override {
    // The row id is the leaf index + 1, as AUTOINCREMENT would give (ids stay contiguous).
    auto& q = w_.Prepare(
        "INSERT INTO disclosures (id, occurred_at, event, outcome, message_id, delivery_id, "
        "sender, recipient, subject_hash, message_type, legal_basis, legal_citation, handling, "
        "view, content_hash, reason, sender_certificate_subject, sender_certificate_fingerprint, "
        "instance, version, on_behalf_of) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    q.Bind(1, static_cast<int64_t>(r.index()) + 1).Bind(2, OccurredAt(r));
    q.Bind(3, r.event()).Bind(4, r.outcome()).Bind(5, r.message_id());
    BindOptional(q, 6, DeliveryIdOf(r));
    q.Bind(7, r.sender()).Bind(8, r.recipient()).BindBlob(9, r.subject_hash());
    q.Bind(10, r.message_type()).Bind(11, r.legal_basis()).Bind(12, r.legal_citation());
    q.Bind(13, r.handling()).Bind(14, r.view()).BindBlob(15, r.content_hash());
    q.Bind(16, r.reason()).Bind(17, r.sender_certificate_subject());
    q.Bind(18, r.sender_certificate_fingerprint()).Bind(19, r.instance()).Bind(20, r.version());
    q.Bind(21, r.on_behalf_of());
    return q.Step() == SQLITE_DONE ? Status::Ok() : w_.Failure("inserting disclosure record");
  }

  Status InsertNodes(std::span<const merkle::Node> nodes) override {
    for (const merkle::Node& node : nodes) {
      auto& q = w_.Prepare("INSERT INTO merkle_nodes (level, idx, hash) VALUES (?, ?, ?)");
      q.Bind(1, int64_t{node.id.level}).Bind(2, static_cast<int64_t>(node.id.index));
      q.BindBlob(3, node.hash);
      if (q.Step() != SQLITE_DONE) return w_.Failure("inserting log node");
    }
    return Status::Ok();
  }

  Status LatestCheckpoint(std::optional<StoredCheckpoint>* out) override {
    auto& q = w_.Prepare(
        "SELECT tree_size, root, note, signed_at FROM checkpoints ORDER BY tree_size DESC "
        "LIMIT 1");
    const int rc = q.Step();
    if (rc == SQLITE_ROW) {
      *out = StoredCheckpoint{static_cast<uint64_t>(q.Int(0)), q.Text(1), q.Text(2), q.Int(3)};
    }
    q.Reset();
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? Status::Ok() : w_.Failure("reading checkpoints");
  }

  Status InsertCheckpoint(const StoredCheckpoint& c) override {
    auto& q = w_.Prepare(
        "INSERT INTO checkpoints (tree_size, root, note, signed_at) VALUES (?, ?, ?, ?)");
    q.Bind(1, static_cast<int64_t>(c.tree_size)).BindBlob(2, c.root).Bind(3, c.note);
    q.Bind(4, c.signed_at);
    return q.Step() == SQLITE_DONE ? Status::Ok() : w_.Failure("inserting checkpoint");
  }

  Status MarkEscalated(uint64_t delivery, int64_t now, bool* marked) override {
    auto& q = w_.Prepare(
        "UPDATE deliveries SET escalated_at = ? WHERE id = ? AND ack_deadline IS NOT NULL "
        "AND acked_at IS NULL AND escalated_at IS NULL");
    q.Bind(1, now).Bind(2, static_cast<int64_t>(delivery));
    if (q.Step() != SQLITE_DONE) return w_.Failure("marking escalated");
    *marked = w_.Changes() == 1;
    return Status::Ok();
  }

  Status Acknowledge(std::string_view party, uint64_t delivery, int64_t now,
                     bool* changed) override {
    auto& q = w_.Prepare(
        "UPDATE deliveries SET acked_at = ?, received_at = coalesce(received_at, ?) "
        "WHERE id = ? AND recipient = ? AND acked_at IS NULL");
    q.Bind(1, now).Bind(2, now).Bind(3, static_cast<int64_t>(delivery)).Bind(4, party);
    if (q.Step() != SQLITE_DONE) return w_.Failure("acknowledging");
    *changed = w_.Changes() == 1;
    return Status::Ok();
  }

  Status DeliveryExists(std::string_view party, uint64_t delivery, bool* exists) override {
    auto& q = w_.Prepare("SELECT 1 FROM deliveries WHERE id = ? AND recipient = ?");
    q.Bind(1, static_cast<int64_t>(delivery)).Bind(2, party);
    const int rc = q.Step();
    q.Reset();
    *exists = rc == SQLITE_ROW;
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? Status::Ok() : w_.Failure("acknowledging");
  }

  Status DisclosureOf(uint64_t delivery, std::optional<v1::DisclosureRecord>* out) override {
    auto& q = w_.Prepare(
        "SELECT ds.id - 1, ds.occurred_at, ds.event, ds.outcome, ds.message_id, ds.delivery_id, "
        "ds.sender, ds.sender_certificate_subject, ds.sender_certificate_fingerprint, "
        "ds.recipient, ds.subject_hash, ds.message_type, ds.view, ds.content_hash, "
        "ds.legal_basis, ds.legal_citation, ds.handling, ds.reason, ds.instance, ds.version, "
        "ds.on_behalf_of "
        "FROM deliveries d JOIN messages m ON m.id = d.message "
        "JOIN disclosures ds ON ds.message_id = m.message_id AND ds.delivery_id = d.id "
        "AND ds.outcome = 'disclosed' "
        "WHERE d.id = ?");
    q.Bind(1, static_cast<int64_t>(delivery));
    const int rc = q.Step();
    if (rc == SQLITE_ROW) *out = RecordFromColumns(q);
    q.Reset();
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? Status::Ok()
                                                 : w_.Failure("reading a delivery's record");
  }

  Status MarkReceived(std::string_view party, uint64_t delivery, int64_t now,
                      bool unreadable) override {
    auto& q = w_.Prepare(
        "UPDATE deliveries SET received_at = coalesce(received_at, ?1), "
        "unreadable_at = CASE WHEN ?4 THEN coalesce(unreadable_at, ?1) ELSE unreadable_at END "
        "WHERE id = ?2 AND recipient = ?3 AND (received_at IS NULL OR "
        "(?4 AND unreadable_at IS NULL))");
    q.Bind(1, now).Bind(2, static_cast<int64_t>(delivery)).Bind(3, party);
    q.Bind(4, static_cast<int64_t>(unreadable ? 1 : 0));
    return q.Step() == SQLITE_DONE ? Status::Ok() : w_.Failure("marking received");
  }

  Status ReadEnvelopes(uint64_t after, std::string_view header, size_t limit,
                       std::vector<StoredEnvelope>* out) override {
    auto& q = w_.Prepare(
        "SELECT d.id, m.message_id, d.envelope, x.content_hash FROM deliveries d "
        "JOIN messages m ON m.id = d.message "
        "JOIN disclosures x ON x.message_id = m.message_id AND x.delivery_id = d.id "
        "AND x.outcome = 'disclosed' "
        "WHERE d.id > ? AND d.same_as IS NULL AND d.erased_at IS NULL "
        "AND instr(d.envelope, ?) != 1 "
        "ORDER BY d.id LIMIT ?");
    q.Bind(1, static_cast<int64_t>(after)).BindBlob(2, header);
    q.Bind(3, static_cast<int64_t>(limit));
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) {
      out->push_back({static_cast<uint64_t>(q.Int(0)), q.Text(1), q.Text(2), q.Text(3)});
    }
    q.Reset();
    return rc == SQLITE_DONE ? Status::Ok() : w_.Failure("reading envelopes");
  }

  Status UpdateEnvelope(uint64_t delivery, std::string_view value) override {
    auto& q = w_.Prepare("UPDATE deliveries SET envelope = ? WHERE id = ?");
    q.BindBlob(1, value).Bind(2, static_cast<int64_t>(delivery));
    return q.Step() == SQLITE_DONE ? Status::Ok() : w_.Failure("resealing an envelope");
  }

  Status ReadRetainedMessages(uint64_t after, int64_t posted_before, size_t limit,
                              std::vector<RetainedMessage>* out) override {
    // Only messages up to the last one posted by `posted_before` (by the index on accepted_at),
    // through the index of deliveries still holding bodies.
    auto& q = w_.Prepare(
        "SELECT m.id, m.legal_basis, m.accepted_at, "
        "CASE WHEN count(d.acked_at) = count(*) THEN max(d.acked_at) END "
        "FROM deliveries d JOIN messages m ON m.id = d.message "
        "WHERE d.erased_at IS NULL AND d.message > ?1 AND d.message <= "
        "(SELECT max(id) FROM messages WHERE accepted_at <= ?2) AND m.accepted_at <= ?2 "
        "GROUP BY m.id ORDER BY m.id LIMIT ?3");
    q.Bind(1, static_cast<int64_t>(after)).Bind(2, posted_before);
    q.Bind(3, static_cast<int64_t>(limit));
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) {
      RetainedMessage m{static_cast<uint64_t>(q.Int(0)), q.Text(1), q.Int(2), std::nullopt};
      if (!q.IsNull(3)) m.acknowledged_at = q.Int(3);
      out->push_back(std::move(m));
    }
    q.Reset();
    return rc == SQLITE_DONE ? Status::Ok() : w_.Failure("reading retained messages");
  }

  Status EraseBodies(uint64_t message, int64_t now, std::vector<uint64_t>* deliveries) override {
    auto& q = w_.Prepare(
        "UPDATE deliveries SET envelope = x'', erased_at = ? "
        "WHERE message = ? AND erased_at IS NULL RETURNING id");
    q.Bind(1, now).Bind(2, static_cast<int64_t>(message));
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) deliveries->push_back(static_cast<uint64_t>(q.Int(0)));
    q.Reset();
    return rc == SQLITE_DONE ? Status::Ok() : w_.Failure("erasing bodies");
  }

  Status ReadEndedFlags(int64_t now, std::vector<FlagInfo>* out) override {
    auto& q = w_.Prepare(kEndedFlags);
    q.Bind(1, now);
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) out->push_back(FlagFromColumns(q));
    q.Reset();
    return rc == SQLITE_DONE ? Status::Ok() : w_.Failure("reading ended flags");
  }

  Status EraseFlag(std::string_view flag_id, int64_t now) override {
    auto& q = w_.Prepare(
        "UPDATE flags SET subject_hash = x'', reason = '', erased_at = ? WHERE flag_id = ?");
    q.Bind(1, now).Bind(2, flag_id);
    return q.Step() == SQLITE_DONE ? Status::Ok() : w_.Failure("erasing a flag");
  }

  Status InsertFlag(const FlagOp& op, int64_t now) override {
    auto& q = w_.Prepare(
        "INSERT INTO flags (flag_id, subject_hash, reason, flagged_by, legal_basis, flagged_at, "
        "expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
    const FlagInfo& f = op.flag;
    q.Bind(1, f.flag_id).BindBlob(2, op.subject_hash).Bind(3, f.reason).Bind(4, f.flagged_by);
    q.Bind(5, f.legal_basis).Bind(6, now);
    BindOptional(q, 7, f.expires_at);
    if (q.Step() != SQLITE_DONE) return w_.Failure("inserting flag");
    // Before the commit makes the flag visible; if it rolls back, the set only holds one more.
    std::lock_guard lock(store_->flagged_mu_);
    store_->flagged_subjects_.insert(op.subject_hash);
    return Status::Ok();
  }

  Status Unflag(std::string_view flag_id, std::string_view party, int64_t now,
                std::optional<FlagInfo>* after) override {
    auto& update = w_.Prepare(
        "UPDATE flags SET unflagged_at = ?, unflagged_by = ? "
        "WHERE flag_id = ? AND unflagged_at IS NULL");
    update.Bind(1, now).Bind(2, party).Bind(3, flag_id);
    if (update.Step() != SQLITE_DONE) return w_.Failure("unflagging");
    return FindFlagIn(w_, flag_id, after);
  }

  Status KeepPolicyText(const PolicyText& t, int64_t now) override {
    auto& q = w_.Prepare(
        "INSERT INTO policy_texts (sha256, name, body, first_recorded_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (sha256) DO NOTHING");
    q.BindBlob(1, t.sha256).Bind(2, t.name).BindBlob(3, t.text).Bind(4, now);
    return q.Step() == SQLITE_DONE ? Status::Ok() : w_.Failure("keeping a policy text");
  }

  Status FindFlag(std::string_view flag_id, std::optional<FlagInfo>* flag) override {
    return FindFlagIn(w_, flag_id, flag);
  }

  Status ReadFlags(std::string_view subject_hash, bool include_inactive, int64_t now,
                   std::vector<FlagInfo>* out) override {
    return ReadFlagsIn(w_, subject_hash, include_inactive, now, out);
  }

 private:
  static void BindOptional(SqliteStatement& q, int index, std::optional<int64_t> value) {
    if (value) {
      q.Bind(index, *value);
    } else {
      q.BindNull(index);
    }
  }

  SqliteStore* const store_;
  SqliteDb& w_;
  SqliteStoredNodes nodes_;
};

Status SqliteStore::Apply(std::span<WriteOp* const> ops, int64_t now) {
  return core_.Apply(*rows_, ops, now);
}

Status SqliteStore::LoadFlaggedSubjects() {
  auto& q = writer_->Prepare("SELECT DISTINCT subject_hash FROM flags");
  int rc;
  std::lock_guard lock(flagged_mu_);
  while ((rc = q.Step()) == SQLITE_ROW) flagged_subjects_.insert(q.Text(0));
  q.Reset();
  return rc == SQLITE_DONE ? Status::Ok() : writer_->Failure("reading flagged subjects");
}

Status SqliteStore::OpenLog() {
  SqliteDb& w = *writer_;
  rows_ = std::make_unique<Rows>(this);
  auto& q = w.Prepare("SELECT coalesce(max(idx) + 1, 0) FROM merkle_nodes WHERE level = 0");
  if (q.Step() != SQLITE_ROW) return w.Failure("reading the log size");
  const auto size = static_cast<uint64_t>(q.Int(0));
  q.Reset();
  if (Status s = core_.LoadLog(rows_->Nodes(), size); !s.ok()) return s;
  // Records from before the log existed (schema version 2) are appended once, in index order.
  auto& older = w.Prepare(
      "SELECT id - 1, occurred_at, event, outcome, message_id, delivery_id, sender, "
      "sender_certificate_subject, sender_certificate_fingerprint, recipient, subject_hash, "
      "message_type, view, content_hash, legal_basis, legal_citation, handling, reason, instance, "
      "version, on_behalf_of FROM disclosures WHERE id > ? ORDER BY id");
  older.Bind(1, static_cast<int64_t>(size));
  std::vector<v1::DisclosureRecord> records;
  int rc;
  while ((rc = older.Step()) == SQLITE_ROW) records.push_back(RecordFromColumns(older));
  older.Reset();
  if (rc != SQLITE_DONE) return w.Failure("reading unlogged records");
  if (records.empty()) return Status::Ok();
  if (Status s = w.Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  for (const v1::DisclosureRecord& record : records) {
    if (Status s = core_.AppendStored(*rows_, record); !s.ok()) {
      (void)w.Exec("ROLLBACK");
      return s;
    }
  }
  if (Status s = w.Exec("COMMIT"); !s.ok()) return s;
  LogInfo("disclosure log: appended " + std::to_string(records.size()) + " earlier records");
  return core_.LoadLog(rows_->Nodes(), size + records.size());
}

}  // namespace infoflyt

namespace infoflyt {

Status SqliteStore::ReadDeliveries(std::string_view party, uint64_t from_id, bool unacked_only,
                                   size_t limit, std::vector<StoredDelivery>* out) {
  ReaderPool::Lease lease;
  if (Status s = readers_.Borrow(&lease); !s.ok()) return s;
  SqliteDb& r = *lease;
  // Two literal queries rather than one with a flag, so SQLite can use the partial index.
  auto& q = unacked_only
                ? r.Prepare(
                      "SELECT d.id, m.message_id, m.sender, m.accepted_at, "
                      "coalesce(s.envelope, d.envelope), 0, x.content_hash, "
                      "d.erased_at IS NOT NULL, d.ack_deadline "
                      "FROM deliveries d JOIN messages m ON m.id = d.message "
                      "LEFT JOIN deliveries s ON s.id = d.same_as "
                      "JOIN disclosures x ON x.message_id = m.message_id AND x.delivery_id = d.id "
                      "AND x.outcome = 'disclosed' "
                      "WHERE d.recipient = ? AND d.id >= ? AND d.acked_at IS NULL "
                      "ORDER BY d.id LIMIT ?")
                : r.Prepare(
                      "SELECT d.id, m.message_id, m.sender, m.accepted_at, "
                      "coalesce(s.envelope, d.envelope), d.acked_at IS NOT NULL, x.content_hash, "
                      "d.erased_at IS NOT NULL, d.ack_deadline "
                      "FROM deliveries d JOIN messages m ON m.id = d.message "
                      "LEFT JOIN deliveries s ON s.id = d.same_as "
                      "JOIN disclosures x ON x.message_id = m.message_id AND x.delivery_id = d.id "
                      "AND x.outcome = 'disclosed' "
                      "WHERE d.recipient = ? AND d.id >= ? ORDER BY d.id LIMIT ?");
  q.Bind(1, party).Bind(2, static_cast<int64_t>(from_id)).Bind(3, static_cast<int64_t>(limit));
  if (Status s = ReadDeliveryRows(r, q, out); !s.ok()) return s;
  return core_.OpenDeliveries(out);
}

Status SqliteStore::ReadInbox(std::string_view party, size_t limit,
                              std::vector<StoredDelivery>* out) {
  ReaderPool::Lease lease;
  if (Status s = readers_.Borrow(&lease); !s.ok()) return s;
  SqliteDb& r = *lease;
  auto& q = r.Prepare(
      "SELECT * FROM (SELECT d.id, m.message_id, m.sender, m.accepted_at, "
      "coalesce(s.envelope, d.envelope), 0, x.content_hash, d.erased_at IS NOT NULL, "
      "d.ack_deadline FROM deliveries d JOIN messages m ON m.id = d.message "
      "LEFT JOIN deliveries s ON s.id = d.same_as "
      "JOIN disclosures x ON x.message_id = m.message_id AND x.delivery_id = d.id "
      "AND x.outcome = 'disclosed' "
      "WHERE d.recipient = ?1 AND d.acked_at IS NULL ORDER BY d.id DESC LIMIT ?2) "
      "UNION ALL SELECT * FROM (SELECT d.id, m.message_id, m.sender, m.accepted_at, "
      "coalesce(s.envelope, d.envelope), 1, x.content_hash, d.erased_at IS NOT NULL, "
      "d.ack_deadline FROM deliveries d JOIN messages m ON m.id = d.message "
      "LEFT JOIN deliveries s ON s.id = d.same_as "
      "JOIN disclosures x ON x.message_id = m.message_id AND x.delivery_id = d.id "
      "AND x.outcome = 'disclosed' "
      "WHERE d.recipient = ?1 AND d.acked_at IS NOT NULL ORDER BY d.id DESC LIMIT ?2) "
      // A compound's order is not its arms' order: said once more, over at most 2 x limit rows.
      "ORDER BY 6, 1 DESC");
  q.Bind(1, party).Bind(2, static_cast<int64_t>(limit));
  if (Status s = ReadDeliveryRows(r, q, out); !s.ok()) return s;
  return core_.OpenDeliveries(out);
}

Status SqliteStore::ReadDeliveryRows(SqliteDb& db, SqliteStatement& q,
                                     std::vector<StoredDelivery>* out) {
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    out->push_back({static_cast<uint64_t>(q.Int(0)), q.Text(1), q.Text(2), q.Int(3), q.Text(4),
                    q.Int(5) != 0, false, q.Int(7) != 0, q.Text(6),
                    q.IsNull(8) ? std::nullopt : std::optional<int64_t>(q.Int(8))});
  }
  q.Reset();
  if (rc != SQLITE_DONE) return db.Failure("reading deliveries");
  return Status::Ok();
}

Status SqliteStore::GetMessageState(std::string_view message_id, std::string_view party,
                                    MessageState* out) {
  ReaderPool::Lease lease;
  if (Status s = readers_.Borrow(&lease); !s.ok()) return s;
  SqliteDb& r = *lease;
  auto& q = r.Prepare(
      "SELECT m.message_type, m.accepted_at, d.recipient, d.received_at, d.acked_at, "
      "d.ack_deadline, d.escalated_at, d.unreadable_at, d.erased_at FROM messages m "
      "JOIN disclosures x ON x.message_id = m.message_id AND x.outcome = 'disclosed' "
      "JOIN deliveries d ON d.id = x.delivery_id WHERE m.message_id = ? "
      "AND ((m.sender = ? AND x.on_behalf_of = '') OR x.on_behalf_of = ?) ORDER BY d.recipient");
  q.Bind(1, message_id).Bind(2, party).Bind(3, party);
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
    if (!q.IsNull(7)) recipient.unreadable_at = q.Int(7);
    if (!q.IsNull(8)) recipient.erased_at = q.Int(8);
    state.recipients.push_back(std::move(recipient));
  }
  q.Reset();
  if (rc != SQLITE_DONE) return r.Failure("reading message status");
  if (state.recipients.empty())
    return {Code::kNotFound, "message_id: no message with recipients this party may see"};
  *out = std::move(state);
  return Status::Ok();
}

Status SqliteStore::ListOverdue(int64_t now, size_t limit, std::vector<OverdueDelivery>* out) {
  ReaderPool::Lease lease;
  if (Status s = readers_.Borrow(&lease); !s.ok()) return s;
  SqliteDb& r = *lease;
  auto& q = r.Prepare(
      "SELECT d.id, d.recipient, d.ack_deadline, d.received_at, m.message_id, m.sender, "
      "m.message_type, m.handling, m.accepted_at, x.subject_hash, x.legal_basis, "
      "x.legal_citation, x.on_behalf_of FROM deliveries d JOIN messages m ON m.id = d.message "
      "JOIN disclosures x ON x.message_id = m.message_id AND x.delivery_id = d.id "
      "AND x.outcome = 'disclosed' "
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
    o.on_behalf_of = q.Text(12);
    out->push_back(std::move(o));
  }
  q.Reset();
  return rc == SQLITE_DONE ? Status::Ok() : r.Failure("reading overdue deliveries");
}

Status SqliteStore::NextDeadline(std::optional<int64_t>* out) {
  ReaderPool::Lease lease;
  if (Status s = readers_.Borrow(&lease); !s.ok()) return s;
  SqliteDb& r = *lease;
  auto& q = r.Prepare(
      "SELECT min(ack_deadline) FROM deliveries WHERE ack_deadline IS NOT NULL "
      "AND acked_at IS NULL AND escalated_at IS NULL");
  const int rc = q.Step();
  if (rc != SQLITE_ROW) return r.Failure("reading the next deadline");
  *out = q.IsNull(0) ? std::nullopt : std::optional<int64_t>(q.Int(0));
  q.Reset();
  return Status::Ok();
}

Status SqliteStore::ListFlags(std::string_view subject_hash, bool include_inactive, int64_t now,
                              std::vector<FlagInfo>* out) {
  if (!subject_hash.empty()) {
    std::lock_guard lock(flagged_mu_);
    if (!flagged_subjects_.contains(std::string(subject_hash))) return Status::Ok();
  }
  ReaderPool::Lease lease;
  if (Status s = readers_.Borrow(&lease); !s.ok()) return s;
  return ReadFlagsIn(*lease, subject_hash, include_inactive, now, out);
}

Status SqliteStore::QueryLog(const RecordFilter& f, uint64_t from_index, size_t limit,
                             std::vector<LogEntry>* out) {
  // Assembled from fixed fragments; every value is bound. Each filter has an index to use.
  std::string sql =
      "SELECT id - 1, occurred_at, event, outcome, message_id, delivery_id, sender, "
      "sender_certificate_subject, sender_certificate_fingerprint, recipient, subject_hash, "
      "message_type, view, content_hash, legal_basis, legal_citation, handling, reason, instance, "
      "version, on_behalf_of, n.hash FROM disclosures "
      "LEFT JOIN merkle_nodes n ON n.level = 0 AND n.idx = disclosures.id - 1 WHERE id > ?";
  if (!f.subject_hash.empty()) sql += " AND subject_hash = ?";
  if (!f.message_id.empty()) sql += " AND message_id = ?";
  if (!f.party.empty()) sql += " AND (sender = ? OR recipient = ?)";
  if (!f.legal_basis.empty()) sql += " AND legal_basis = ?";
  if (!f.message_type.empty()) sql += " AND message_type = ?";
  if (!f.outcome.empty()) sql += " AND outcome = ?";
  if (f.from) sql += " AND occurred_at >= ?";
  if (f.until) sql += " AND occurred_at < ?";
  sql += ScopeConditions(f.scope, "");
  sql += " ORDER BY id LIMIT ?";
  ReaderPool::Lease lease;
  if (Status s = readers_.Borrow(&lease); !s.ok()) return s;
  SqliteStatement q = lease->PrepareOnce(sql);
  int i = 1;
  q.Bind(i++, static_cast<int64_t>(from_index));
  if (!f.subject_hash.empty()) q.BindBlob(i++, f.subject_hash);
  if (!f.message_id.empty()) q.Bind(i++, f.message_id);
  if (!f.party.empty()) {
    q.Bind(i, f.party).Bind(i + 1, f.party);
    i += 2;
  }
  if (!f.legal_basis.empty()) q.Bind(i++, f.legal_basis);
  if (!f.message_type.empty()) q.Bind(i++, f.message_type);
  if (!f.outcome.empty()) q.Bind(i++, f.outcome);
  if (f.from) q.Bind(i++, *f.from);
  if (f.until) q.Bind(i++, *f.until);
  i = BindScope(q, i, f.scope);
  q.Bind(i, static_cast<int64_t>(limit));
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    out->push_back({RecordFromColumns(q), q.Text(kRecordColumns)});
  }
  return rc == SQLITE_DONE ? Status::Ok() : lease->Failure("querying records");
}

Status SqliteStore::CountRecords(const RecordFilter& f, std::vector<RecordCount>* counts,
                                 std::vector<MunicipalityAck>* acks) {
  // Every value is bound; the period has the index by time to use.
  const int64_t from = f.from.value_or(0);
  const int64_t until = f.until.value_or(std::numeric_limits<int64_t>::max());
  ReaderPool::Lease lease;
  if (Status s = readers_.Borrow(&lease); !s.ok()) return s;
  SqliteStatement q = lease->PrepareOnce(
      "SELECT occurred_at / 86400000000, event, outcome, legal_basis, "
      "CASE WHEN instr(sender, '/') > 0 THEN substr(sender, 1, instr(sender, '/') - 1) "
      "ELSE sender END, count(*) FROM disclosures WHERE occurred_at >= ? AND occurred_at < ?" +
      ScopeConditions(f.scope, "") + " GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5");
  BindScope(q.Bind(1, from).Bind(2, until), 3, f.scope);
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    counts->push_back(
        {q.Int(0), q.Text(1), q.Text(2), q.Text(3), q.Text(4), static_cast<uint64_t>(q.Int(5))});
  }
  if (rc != SQLITE_DONE) return lease->Failure("counting records");
  SqliteStatement a = lease->PrepareOnce(
      "SELECT r.recipient, r.occurred_at, d.acked_at, d.ack_deadline FROM disclosures r "
      "JOIN deliveries d ON d.id = r.delivery_id WHERE r.event = 'disclose' AND "
      "r.recipient LIKE 'municipality/%' AND r.occurred_at >= ? AND r.occurred_at < ?" +
      ScopeConditions(f.scope, "r.") + " ORDER BY r.recipient");
  BindScope(a.Bind(1, from).Bind(2, until), 3, f.scope);
  while ((rc = a.Step()) == SQLITE_ROW) {
    acks->push_back({a.Text(0), {a.Int(1), OptionalInt(a, 2), OptionalInt(a, 3)}});
  }
  return rc == SQLITE_DONE ? Status::Ok() : lease->Failure("reading acknowledgement times");
}

Status SqliteStore::ReadLog(uint64_t from_index, uint64_t to_index, size_t limit,
                            std::vector<LogEntry>* out) {
  ReaderPool::Lease lease;
  if (Status s = readers_.Borrow(&lease); !s.ok()) return s;
  auto& q = lease->Prepare(
      "SELECT d.id - 1, d.occurred_at, d.event, d.outcome, d.message_id, d.delivery_id, d.sender, "
      "d.sender_certificate_subject, d.sender_certificate_fingerprint, d.recipient, "
      "d.subject_hash, d.message_type, d.view, d.content_hash, d.legal_basis, d.legal_citation, "
      "d.handling, d.reason, d.instance, d.version, d.on_behalf_of, n.hash FROM disclosures d "
      "LEFT JOIN merkle_nodes n ON n.level = 0 AND n.idx = d.id - 1 "
      "WHERE d.id > ? AND d.id <= ? ORDER BY d.id LIMIT ?");
  q.Bind(1, static_cast<int64_t>(from_index)).Bind(2, static_cast<int64_t>(to_index));
  q.Bind(3, static_cast<int64_t>(limit));
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW)
    out->push_back({RecordFromColumns(q), q.Text(kRecordColumns)});
  q.Reset();
  return rc == SQLITE_DONE ? Status::Ok() : lease->Failure("reading the log");
}

Status SqliteStore::GetCheckpoint(uint64_t tree_size, StoredCheckpoint* out) {
  ReaderPool::Lease lease;
  if (Status s = readers_.Borrow(&lease); !s.ok()) return s;
  auto& q = tree_size == 0 ? lease->Prepare(
                                 "SELECT tree_size, root, note, signed_at FROM checkpoints "
                                 "ORDER BY tree_size DESC LIMIT 1")
                           : lease->Prepare(
                                 "SELECT tree_size, root, note, signed_at FROM checkpoints "
                                 "WHERE tree_size = ?");
  if (tree_size != 0) q.Bind(1, static_cast<int64_t>(tree_size));
  const int rc = q.Step();
  if (rc == SQLITE_DONE) {
    return {Code::kNotFound, tree_size == 0
                                 ? "no checkpoint has been signed yet"
                                 : "tree_size: no checkpoint of size " + std::to_string(tree_size)};
  }
  if (rc != SQLITE_ROW) return lease->Failure("reading checkpoints");
  *out = {static_cast<uint64_t>(q.Int(0)), q.Text(1), q.Text(2), q.Int(3)};
  q.Reset();
  return Status::Ok();
}

Status SqliteStore::RecordSharedKeys(const SharedKeys& mine, int64_t now, SharedKeys* recorded) {
  SqliteDb& w = *writer_;
  auto& insert = w.Prepare(
      "INSERT INTO shared_keys (one, log_origin, log_verifier_key, subject_key_check, "
      "recorded_at, recorded_by) VALUES (1, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING");
  insert.Bind(1, mine.log_origin).Bind(2, mine.log_verifier_key);
  insert.BindBlob(3, mine.subject_key_check).Bind(4, now).Bind(5, options_.instance);
  if (insert.Step() != SQLITE_DONE) return w.Failure("recording the store's keys");
  auto& q = w.Prepare("SELECT log_origin, log_verifier_key, subject_key_check FROM shared_keys");
  if (q.Step() != SQLITE_ROW) return w.Failure("reading the store's keys");
  *recorded = {q.Text(0), q.Text(1), q.Text(2)};
  q.Reset();
  return Status::Ok();
}

Status SqliteStore::RecordDataKeys(const std::vector<DataKeys::Check>& mine, int64_t now,
                                   std::vector<DataKeys::Check>* recorded) {
  SqliteDb& w = *writer_;
  auto read = [&w](std::vector<DataKeys::Check>* out) {
    out->clear();
    auto& q = w.Prepare("SELECT key_id, key_check FROM data_keys ORDER BY recorded_at, key_id");
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) out->push_back({q.Text(0), q.Text(1)});
    q.Reset();
    return rc == SQLITE_DONE ? Status::Ok() : w.Failure("reading the data keys");
  };
  // The store has one writer, this daemon's: no other start can come between.
  if (Status s = read(recorded); !s.ok()) return s;
  for (const DataKeys::Check& c : ChecksToRecord(mine, *recorded)) {
    auto& insert =
        w.Prepare("INSERT INTO data_keys (key_id, key_check, recorded_at) VALUES (?, ?, ?)");
    insert.Bind(1, c.key_id).BindBlob(2, c.check).Bind(3, now);
    if (insert.Step() != SQLITE_DONE) return w.Failure("recording the data keys");
  }
  return read(recorded);
}

Status SqliteStore::GetPolicyText(std::string_view sha256, PolicyText* out) {
  ReaderPool::Lease lease;
  if (Status s = readers_.Borrow(&lease); !s.ok()) return s;
  auto& q = lease->Prepare("SELECT name, body FROM policy_texts WHERE sha256 = ?");
  q.BindBlob(1, sha256);
  const int rc = q.Step();
  if (rc == SQLITE_DONE) return {Code::kNotFound, "sha256: no policy text with this hash"};
  if (rc != SQLITE_ROW) return lease->Failure("reading policy texts");
  *out = {q.Text(0), q.Text(1), std::string(sha256)};
  q.Reset();
  return Status::Ok();
}

Status SqliteStore::InclusionProof(uint64_t index, uint64_t tree_size,
                                   std::vector<std::string>* proof) {
  if (tree_size > LogSize() || index >= tree_size) {
    return {Code::kInvalidArgument, "index: " + std::to_string(index) +
                                        " is not in a log of size " + std::to_string(tree_size)};
  }
  ReaderPool::Lease lease;
  if (Status s = readers_.Borrow(&lease); !s.ok()) return s;
  return merkle::InclusionProof(LogNodeReader(SqliteStoredNodes(*lease)), index, tree_size, proof);
}

Status SqliteStore::ConsistencyProof(uint64_t size1, uint64_t size2,
                                     std::vector<std::string>* proof) {
  if (size2 > LogSize() || size1 > size2) {
    return {Code::kInvalidArgument,
            "sizes: need from_size <= to_size <= " + std::to_string(LogSize())};
  }
  ReaderPool::Lease lease;
  if (Status s = readers_.Borrow(&lease); !s.ok()) return s;
  return merkle::ConsistencyProof(LogNodeReader(SqliteStoredNodes(*lease)), size1, size2, proof);
}

}  // namespace infoflyt
