#include "store/pg_store.h"

#include <algorithm>
#include <limits>
#include <string>

#include "base/log.h"
#include "merkle/proof.h"
#include "merkle/record_leaf.h"
#include "store/pg_listener.h"

namespace infoflyt {
namespace {

// Schema version 1: what SQLite's versions 1 to 3 make, in one step (no PostgreSQL database
// predates the log, so no record ever needs appending late). Messages hold the envelope once;
// deliveries are per recipient and carry the delivery, acknowledgement and escalation state;
// disclosure records are append-only facts for auditors, each a leaf of the disclosure log at
// leaf_index. merkle_nodes holds every complete perfect subtree (level 0: leaf hashes),
// checkpoints the signed tree heads, log_head the log's committed size: its one row is the lock
// that orders appends across daemons. Append-only tables refuse UPDATE, DELETE and TRUNCATE.
// Columns whose bytes are opaque to the store are bytea, the rest text (UTF-8): a signed note is
// kept verbatim, whatever its bytes, as SQLite keeps it. The triggers' refusals carry only their
// constant argument, never a row's values: class 23 messages reach logs and callers whole
// (store/pg_conn.cc), so no trigger may RAISE with values in it.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE messages (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  message_id text NOT NULL UNIQUE,
  sender text NOT NULL,
  idempotency_key text NOT NULL,
  request_hash bytea NOT NULL,
  message_type text NOT NULL,
  legal_basis text NOT NULL,
  handling text NOT NULL,
  accepted_at bigint NOT NULL,
  UNIQUE (sender, idempotency_key)
);
CREATE TABLE deliveries (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  message bigint NOT NULL REFERENCES messages(id),
  recipient text NOT NULL,
  envelope bytea NOT NULL,
  received_at bigint,
  acked_at bigint,
  ack_deadline bigint,
  escalated_at bigint
);
CREATE INDEX deliveries_by_recipient ON deliveries (recipient, id);
CREATE INDEX deliveries_unacked ON deliveries (recipient, id) WHERE acked_at IS NULL;
CREATE INDEX deliveries_by_message ON deliveries (message);
CREATE INDEX deliveries_watched ON deliveries (ack_deadline)
  WHERE ack_deadline IS NOT NULL AND acked_at IS NULL AND escalated_at IS NULL;
CREATE TABLE disclosures (
  leaf_index bigint PRIMARY KEY CHECK (leaf_index >= 0),
  occurred_at bigint NOT NULL,
  event text NOT NULL,
  outcome text NOT NULL,
  message_id text NOT NULL,
  delivery_id bigint,
  sender text NOT NULL,
  recipient text NOT NULL,
  subject_hash bytea NOT NULL,
  message_type text NOT NULL,
  legal_basis text NOT NULL,
  legal_citation text NOT NULL,
  handling text NOT NULL,
  view text NOT NULL,
  content_hash bytea NOT NULL,
  reason text NOT NULL,
  sender_certificate_subject text NOT NULL,
  sender_certificate_fingerprint text NOT NULL,
  instance text NOT NULL,
  version text NOT NULL
);
CREATE INDEX disclosures_by_message ON disclosures (message_id);
CREATE INDEX disclosures_by_subject ON disclosures (subject_hash);
CREATE INDEX disclosures_by_sender ON disclosures (sender);
CREATE INDEX disclosures_by_recipient ON disclosures (recipient);
CREATE INDEX disclosures_by_time ON disclosures (occurred_at);
CREATE TABLE flags (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  flag_id text NOT NULL UNIQUE,
  subject_hash bytea NOT NULL,
  reason text NOT NULL,
  flagged_by text NOT NULL,
  legal_basis text NOT NULL,
  flagged_at bigint NOT NULL,
  expires_at bigint,
  unflagged_at bigint,
  unflagged_by text
);
CREATE INDEX flags_by_subject ON flags (subject_hash);
CREATE TABLE merkle_nodes (
  level integer NOT NULL CHECK (level BETWEEN 0 AND 63),
  idx bigint NOT NULL CHECK (idx >= 0),
  hash bytea NOT NULL,
  PRIMARY KEY (level, idx)
);
CREATE TABLE checkpoints (
  tree_size bigint PRIMARY KEY,
  root bytea NOT NULL,
  note bytea NOT NULL,
  signed_at bigint NOT NULL
);
CREATE TABLE log_head (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  size bigint NOT NULL CHECK (size >= 0)
);
INSERT INTO log_head (size) VALUES (0);

CREATE FUNCTION infoflyt_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER flags_no_delete BEFORE DELETE ON flags FOR EACH ROW
  EXECUTE FUNCTION infoflyt_refuse_change('flags keep their history');
CREATE TRIGGER flags_no_truncate BEFORE TRUNCATE ON flags FOR EACH STATEMENT
  EXECUTE FUNCTION infoflyt_refuse_change('flags keep their history');
CREATE TRIGGER disclosures_append_only BEFORE UPDATE OR DELETE ON disclosures FOR EACH ROW
  EXECUTE FUNCTION infoflyt_refuse_change('disclosure records are append-only');
CREATE TRIGGER disclosures_no_truncate BEFORE TRUNCATE ON disclosures FOR EACH STATEMENT
  EXECUTE FUNCTION infoflyt_refuse_change('disclosure records are append-only');
CREATE TRIGGER merkle_nodes_append_only BEFORE UPDATE OR DELETE ON merkle_nodes FOR EACH ROW
  EXECUTE FUNCTION infoflyt_refuse_change('the log is append-only');
CREATE TRIGGER merkle_nodes_no_truncate BEFORE TRUNCATE ON merkle_nodes FOR EACH STATEMENT
  EXECUTE FUNCTION infoflyt_refuse_change('the log is append-only');
CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON checkpoints FOR EACH ROW
  EXECUTE FUNCTION infoflyt_refuse_change('checkpoints are append-only');
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON checkpoints FOR EACH STATEMENT
  EXECUTE FUNCTION infoflyt_refuse_change('checkpoints are append-only');
)sql";

// Version 2: the keys every daemon on the database must share, as the first daemon to start
// had them (only their public halves: the log's verifier key, naming its origin, and a check
// value of the subject key).
constexpr const char* kSchemaV2 = R"sql(
CREATE TABLE shared_keys (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  log_origin text NOT NULL,
  log_verifier_key text NOT NULL,
  subject_key_check bytea NOT NULL,
  recorded_at bigint NOT NULL,
  recorded_by text NOT NULL
);
)sql";

// Migration i brings the schema from version i to i + 1, each in its own transaction.
constexpr const char* kMigrations[] = {kSchemaV1, kSchemaV2};
constexpr int64_t kSchemaVersion = std::size(kMigrations);

// The advisory lock that makes daemons opening one database migrate it one at a time.
constexpr int64_t kMigrationLock = 0x696e666c79740001;  // "inflyt" 0001

// The writer gives up on a lock held for long (another daemon hung mid-batch: UNAVAILABLE, and
// the batch is retried), and the server ends a session that sits in a transaction, so that one
// hung daemon cannot stop the others' appends for good.
constexpr const char* kWriterSetup =
    "SET lock_timeout = '30s'; SET idle_in_transaction_session_timeout = '60s'";

// Reader sessions cannot write, as SQLite's readers are query_only.
constexpr const char* kReaderSetup = "SET default_transaction_read_only = on";

// Positions and limits are unsigned in the interface and bigint in the database.
int64_t Clamp(uint64_t v) {
  return static_cast<int64_t>(std::min<uint64_t>(v, std::numeric_limits<int64_t>::max()));
}

// The columns RecordFromRow reads, in its order (spelled out in each query, which must be a
// literal for the statement cache):
//   leaf_index, occurred_at, event, outcome, message_id, delivery_id, sender,
//   sender_certificate_subject, sender_certificate_fingerprint, recipient, subject_hash,
//   message_type, view, content_hash, legal_basis, legal_citation, handling, reason, instance,
//   version
constexpr int kRecordColumns = 20;

v1::DisclosureRecord RecordFromRow(const PgResult& q, int row) {
  v1::DisclosureRecord r;
  r.set_index(static_cast<uint64_t>(q.Int(row, 0)));
  const int64_t at = q.Int(row, 1);
  r.mutable_occurred_at()->set_seconds(at / 1'000'000);
  r.mutable_occurred_at()->set_nanos(static_cast<int32_t>(at % 1'000'000) * 1000);
  r.set_event(q.Text(row, 2));
  r.set_outcome(q.Text(row, 3));
  r.set_message_id(q.Text(row, 4));
  if (!q.IsNull(row, 5)) r.set_delivery_id(static_cast<uint64_t>(q.Int(row, 5)));
  r.set_sender(q.Text(row, 6));
  r.set_sender_certificate_subject(q.Text(row, 7));
  r.set_sender_certificate_fingerprint(q.Text(row, 8));
  r.set_recipient(q.Text(row, 9));
  r.set_subject_hash(q.Text(row, 10));
  r.set_message_type(q.Text(row, 11));
  r.set_view(q.Text(row, 12));
  r.set_content_hash(q.Text(row, 13));
  r.set_legal_basis(q.Text(row, 14));
  r.set_legal_citation(q.Text(row, 15));
  r.set_handling(q.Text(row, 16));
  r.set_reason(q.Text(row, 17));
  r.set_instance(q.Text(row, 18));
  r.set_version(q.Text(row, 19));
  return r;
}

FlagInfo FlagFromRow(const PgResult& q, int row) {
  FlagInfo f{q.Text(row, 0), q.Text(row, 1), q.Text(row, 2), q.Text(row, 3),
             q.Int(row, 4),  std::nullopt,   std::nullopt,   q.Text(row, 7)};
  if (!q.IsNull(row, 5)) f.expires_at = q.Int(row, 5);
  if (!q.IsNull(row, 6)) f.unflagged_at = q.Int(row, 6);
  return f;
}

// Stored log nodes, read through one connection: a whole batch in one query.
class PgNodeReader final : public merkle::NodeReader {
 public:
  explicit PgNodeReader(PgConn& conn) : conn_(&conn) {}
  Status GetNodes(std::span<const merkle::NodeId> ids,
                  std::vector<std::string>* hashes) const override {
    hashes->clear();
    if (ids.empty()) return Status::Ok();
    // Two array parameters ("{1,2}"): values bound, never spliced into the SQL.
    std::string levels = "{";
    std::string indexes = "{";
    for (size_t i = 0; i < ids.size(); ++i) {
      const char* sep = i == 0 ? "" : ",";
      levels += sep + std::to_string(ids[i].level);
      indexes += sep + std::to_string(ids[i].index);
    }
    levels += "}";
    indexes += "}";
    PgResult q;
    if (Status s =
            conn_->Query("SELECT n.hash FROM unnest($1::integer[], $2::bigint[]) WITH ORDINALITY "
                         "AS want(level, idx, ord) LEFT JOIN merkle_nodes n "
                         "ON n.level = want.level AND n.idx = want.idx ORDER BY want.ord",
                         {PgParam::Text(levels), PgParam::Text(indexes)}, &q);
        !s.ok()) {
      return s;
    }
    if (q.rows() != static_cast<int>(ids.size())) {
      return {Code::kInternal, "log nodes: asked for " + std::to_string(ids.size()) + ", got " +
                                   std::to_string(q.rows())};
    }
    for (int i = 0; i < q.rows(); ++i) {
      if (q.IsNull(i, 0)) return {Code::kNotFound, "log node not stored"};
      hashes->push_back(q.Text(i, 0));
    }
    return Status::Ok();
  }

 private:
  PgConn* conn_;
};

// A failed migration from `version`; says what to do if the session may not change the schema.
Status Migrating(const Status& s, int64_t version) {
  std::string message = "migrating the database schema from version " + std::to_string(version) +
                        " to " + std::to_string(kSchemaVersion) + ": " + s.message();
  if (s.message().find("SQLSTATE 42501") != std::string::npos) {  // insufficient_privilege
    message +=
        "; this role may not change the schema: run `infoflytd --migrate-only` connected as the "
        "database's owner (see deploy/postgres/roles.sql)";
    return {Code::kFailedPrecondition, message};
  }
  return {s.code(), message};
}

// The privileges of the group role the daemons log in as, when roles are split (see
// deploy/postgres/roles.sql): exactly what they need, and no UPDATE, DELETE or TRUNCATE on the
// append-only tables, so the database itself refuses to let a daemon rewrite history. Run by the
// tables' owner after each migration (everything revoked, then granted again: what it holds is
// always this, whatever was granted before); skipped if the role does not exist or the session
// cannot grant (a daemon role itself).
constexpr const char* kGrants = R"sql(
DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'infoflyt_daemon') AND
     pg_has_role((SELECT relowner FROM pg_class WHERE oid = 'disclosures'::regclass), 'USAGE')
  THEN
    REVOKE ALL ON schema_version, messages, deliveries, disclosures, flags, merkle_nodes,
      checkpoints, log_head, shared_keys FROM infoflyt_daemon;
    GRANT SELECT ON schema_version TO infoflyt_daemon;
    GRANT SELECT, INSERT ON messages, disclosures, merkle_nodes, checkpoints, shared_keys
      TO infoflyt_daemon;
    GRANT SELECT, INSERT, UPDATE ON deliveries, flags TO infoflyt_daemon;
    GRANT SELECT, UPDATE ON log_head TO infoflyt_daemon;
  END IF;
END
$$;
)sql";

Status Migrate(PgConn& db) {
  while (true) {
    if (Status s = db.Exec("BEGIN"); !s.ok()) return s;
    auto fail = [&](Status s) {
      db.Rollback();
      return s;
    };
    // One daemon at a time: another one opening the database waits here, then finds the work
    // done. The version table itself is made under the lock too.
    if (Status s = db.Query("SELECT pg_advisory_xact_lock($1)", {PgParam::Int(kMigrationLock)});
        !s.ok()) {
      return fail(s);
    }
    // Looked for before it is made: a daemon role may read the schema but not create tables.
    PgResult exists;
    if (Status s = db.Query("SELECT to_regclass('schema_version') IS NOT NULL", {}, &exists);
        !s.ok()) {
      return fail(s);
    }
    int64_t version = 0;
    if (exists.Int(0, 0) == 0) {
      if (Status s = db.Exec(
              "CREATE TABLE schema_version (one boolean PRIMARY KEY DEFAULT true CHECK (one), "
              "version integer NOT NULL); INSERT INTO schema_version (version) VALUES (0)");
          !s.ok()) {
        return fail(Migrating(s, 0));
      }
    } else {
      PgResult q;
      if (Status s = db.Query("SELECT version FROM schema_version", {}, &q); !s.ok()) {
        return fail(s);
      }
      version = q.Int(0, 0);
    }
    if (version > kSchemaVersion) {
      return fail({Code::kFailedPrecondition, "database schema version " + std::to_string(version) +
                                                  " is newer than this binary knows (" +
                                                  std::to_string(kSchemaVersion) + ")"});
    }
    if (version == kSchemaVersion) {
      if (Status s = db.Exec(kGrants); !s.ok()) return fail(s);
      return db.Commit();
    }
    if (Status s = db.Exec(kMigrations[version]); !s.ok()) return fail(Migrating(s, version));
    if (Status s = db.Query("UPDATE schema_version SET version = $1", {PgParam::Int(version + 1)});
        !s.ok()) {
      return fail(s);
    }
    if (Status s = db.Commit(); !s.ok()) return s;
    if (version > 0) LogInfo("store schema migrated to version " + std::to_string(version + 1));
  }
}

// Ops that may append to the log or sign it: their batch takes the log lock first.
bool TouchesLog(const WriteOp& op) {
  return std::holds_alternative<PostOp>(op) || std::holds_alternative<EscalateOp>(op) ||
         std::holds_alternative<CallRecordOp>(op) || std::holds_alternative<CheckpointOp>(op);
}

}  // namespace

class PgStore::ReaderLease {
 public:
  explicit ReaderLease(PgStore* store) : store_(store) {
    std::unique_lock lock(store_->readers_mu_);
    store_->readers_cv_.wait(lock, [&] { return !store_->idle_readers_.empty(); });
    conn_ = std::move(store_->idle_readers_.back());
    store_->idle_readers_.pop_back();
  }
  ~ReaderLease() {
    {
      std::lock_guard lock(store_->readers_mu_);
      store_->idle_readers_.push_back(std::move(conn_));
    }
    store_->readers_cv_.notify_one();
  }
  ReaderLease(const ReaderLease&) = delete;
  ReaderLease& operator=(const ReaderLease&) = delete;
  // Runs `read(conn)`, and once more on a new connection if the old one turned out to be lost:
  // reads are idempotent, and a pooled connection may have been idle through a server restart.
  template <typename F>
  Status Read(F&& read) {
    if (Status s = conn_->EnsureConnected(); !s.ok()) return s;
    Status s = read(*conn_);
    if (s.ok() || conn_->connected()) return s;
    if (Status r = conn_->EnsureConnected(); !r.ok()) return r;
    return read(*conn_);
  }

 private:
  PgStore* store_;
  std::unique_ptr<PgConn> conn_;
};

Status PgStore::Open(const PgStoreOptions& options, std::unique_ptr<PgStore>* out) {
  std::unique_ptr<PgStore> store(new PgStore(options));
  if (Status s = PgConn::Connect(options.conninfo, options.password, kWriterSetup, &store->writer_);
      !s.ok())
    return s;
  if (Status s = store->ReadBackDurability(); !s.ok()) return s;
  if (Status s = Migrate(*store->writer_); !s.ok()) return s;
  if (Status s = store->OpenLog(); !s.ok()) return s;
  for (int i = 0; i < std::max(options.readers, 1); ++i) {
    std::unique_ptr<PgConn> reader;
    if (Status s = PgConn::Connect(options.conninfo, options.password, kReaderSetup, &reader);
        !s.ok())
      return s;
    store->idle_readers_.push_back(std::move(reader));
  }
  *out = std::move(store);
  return Status::Ok();
}

Status PgStore::ReadBackDurability() {
  durability_.clear();
  for (const char* name : {"synchronous_commit", "fsync", "full_page_writes"}) {
    PgResult q;
    if (Status s = writer_->QueryOnce(std::string("SHOW ") + name, {}, &q); !s.ok()) return s;
    durability_.push_back({name, q.rows() == 1 ? q.Text(0, 0) : ""});
  }
  durability_session_ = writer_->sessions();
  for (const DurabilitySetting& setting : durability_) {
    // Every synchronous_commit but off waits for the local flush (remote_* also for standbys).
    // Only known values pass: anything else (or nothing read) fails closed.
    const bool server_wide = setting.name != "synchronous_commit";
    const std::string& v = setting.value;
    const bool durable =
        server_wide ? v == "on"
                    : v == "on" || v == "local" || v == "remote_write" || v == "remote_apply";
    if (durable || (server_wide && v == "off" && options_.allow_fsync_off)) continue;
    return {Code::kFailedPrecondition,
            "postgres: " + setting.name + " is " + (v.empty() ? "unreadable" : v) +
                ": commits would not survive a crash" +
                (server_wide ? " (store.postgres_allow_fsync_off allows off on a test cluster)"
                             : " (set it on for this role or database)")};
  }
  return Status::Ok();
}

Status PgStore::RecordSharedKeys(const SharedKeys& mine, int64_t now, SharedKeys* recorded) {
  PgConn& w = *writer_;
  if (Status s = w.EnsureConnected(); !s.ok()) return s;
  // The first daemon's insert wins; a concurrent first start of another waits for it on the
  // primary key, then inserts nothing and reads the winner's keys.
  if (Status s =
          w.Query("INSERT INTO shared_keys (log_origin, log_verifier_key, subject_key_check, "
                  "recorded_at, recorded_by) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                  {PgParam::Text(mine.log_origin), PgParam::Text(mine.log_verifier_key),
                   PgParam::Bytes(mine.subject_key_check), PgParam::Int(now),
                   PgParam::Text(options_.instance)});
      !s.ok()) {
    return s;
  }
  PgResult q;
  if (Status s = w.Query("SELECT log_origin, log_verifier_key, subject_key_check FROM shared_keys",
                         {}, &q);
      !s.ok()) {
    return s;
  }
  if (q.rows() != 1) return {Code::kInternal, "shared_keys has no row"};
  *recorded = {q.Text(0, 0), q.Text(0, 1), q.Text(0, 2)};
  return Status::Ok();
}

Status PgStore::StoredLogSize(PgConn& conn, uint64_t* size) {
  PgResult q;
  if (Status s = conn.Query("SELECT size FROM log_head", {}, &q); !s.ok()) return s;
  if (q.rows() != 1) return {Code::kInternal, "disclosure log: log_head has no row"};
  *size = static_cast<uint64_t>(q.Int(0, 0));
  return Status::Ok();
}

Status PgStore::OpenLog() {
  PgConn& w = *writer_;
  // One statement, one snapshot: the head and the records as of the same commit.
  PgResult q;
  if (Status s = w.Query("SELECT (SELECT size FROM log_head), "
                         "(SELECT coalesce(max(leaf_index) + 1, 0) FROM disclosures)",
                         {}, &q);
      !s.ok()) {
    return s;
  }
  const auto size = static_cast<uint64_t>(q.Int(0, 0));
  const auto records = static_cast<uint64_t>(q.Int(0, 1));
  if (size != records) {
    return {Code::kInternal, "disclosure log out of step: " + std::to_string(records) +
                                 " records but the log head says " + std::to_string(size)};
  }
  if (Status s = merkle::CompactRange::FromReader(PgNodeReader(w), size, &log_); !s.ok()) {
    return {Code::kInternal, "disclosure log: cannot load its right edge: " + s.message()};
  }
  log_size_.store(log_.size());
  return Status::Ok();
}

Status PgStore::LockLog() {
  PgConn& w = *writer_;
  PgResult q;
  // Held until the transaction ends: appends from all daemons queue here, in commit order.
  if (Status s = w.Query("SELECT size FROM log_head FOR UPDATE", {}, &q); !s.ok()) return s;
  if (q.rows() != 1) return {Code::kInternal, "disclosure log: log_head has no row"};
  const auto size = static_cast<uint64_t>(q.Int(0, 0));
  log_locked_ = true;
  if (size == log_.size()) return Status::Ok();
  // Another daemon appended (or this one committed without learning it did): the nodes it
  // stored are visible now that its transaction has released the lock.
  if (size < log_.size()) {
    LogWarning("disclosure log: the stored head (" + std::to_string(size) +
               ") is behind this daemon's (" + std::to_string(log_.size()) +
               "); following the database");
  }
  merkle::CompactRange loaded;
  if (Status s = merkle::CompactRange::FromReader(PgNodeReader(w), size, &loaded); !s.ok()) {
    if (s.code() == Code::kUnavailable) return s;
    return {Code::kInternal, "disclosure log: cannot load its right edge: " + s.message()};
  }
  log_ = std::move(loaded);
  return Status::Ok();
}

Status PgStore::Apply(std::span<WriteOp* const> ops, int64_t now) {
  PgConn& w = *writer_;
  if (Status s = w.EnsureConnected(); !s.ok()) return s;
  // A new session after a reconnect: its settings may have changed meanwhile (ALTER ROLE ...
  // SET synchronous_commit), so they are read again before anything is committed through it.
  if (w.sessions() != durability_session_) {
    if (Status s = ReadBackDurability(); !s.ok()) {
      LogError("refusing to commit: " + s.message());
      return s;
    }
  }
  const merkle::CompactRange log_before = log_;
  auto abort = [&](Status s) {
    w.Rollback();
    log_ = log_before;
    log_locked_ = false;
    return s;
  };
  if (Status s = w.Exec("BEGIN"); !s.ok()) return abort(s);
  // The log lock before any row lock, so that two daemons' batches cannot deadlock over it.
  if (std::any_of(ops.begin(), ops.end(), [](const WriteOp* op) { return TouchesLog(*op); })) {
    if (Status s = LockLog(); !s.ok()) return abort(s);
  }
  const uint64_t size_at_start = log_.size();
  for (WriteOp* op : ops) {
    // Each op in its own savepoint: a refused op rolls back alone, the batch goes on.
    if (Status s = w.Exec("SAVEPOINT op"); !s.ok()) return abort(s);
    const merkle::CompactRange log_before_op = log_;
    Status op_status = ApplyOne(*op, now);
    // The database itself failed, or the log is out of step with it.
    if (op_status.code() == Code::kUnavailable || op_status.code() == Code::kInternal) {
      return abort(op_status);
    }
    if (!op_status.ok()) {
      if (Status s = w.Exec("ROLLBACK TO SAVEPOINT op"); !s.ok()) return abort(s);
      log_ = log_before_op;
    }
    if (Status s = w.Exec("RELEASE SAVEPOINT op"); !s.ok()) return abort(s);
  }
  if (log_.size() != size_at_start) {
    if (Status s = w.Query("UPDATE log_head SET size = $1", {PgParam::Int(Clamp(log_.size()))});
        !s.ok()) {
      return abort(s);
    }
  }
  if (Status s = NotifyCommit(ops); !s.ok()) return abort(s);
  // If COMMIT's answer is lost the outcome is unknown; log_ goes back to before, and the next
  // batch's LockLog reloads it from the database either way.
  if (Status s = w.Commit(); !s.ok()) return abort(s);
  log_locked_ = false;
  log_size_.store(log_.size());
  return Status::Ok();
}

Status PgStore::NotifyCommit(std::span<WriteOp* const> ops) {
  CommitNotice notice;
  for (const WriteOp* op : ops) {
    if (const auto* post = std::get_if<PostOp>(op);
        post != nullptr && post->status.ok() && !post->receipt.duplicate) {
      notice.parties.insert(notice.parties.end(), post->receipt.recipients.begin(),
                            post->receipt.recipients.end());
      for (const RecipientDisclosure& r : post->message.recipients) {
        if (r.ack_deadline &&
            (!notice.earliest_deadline || *r.ack_deadline < *notice.earliest_deadline)) {
          notice.earliest_deadline = r.ack_deadline;
        }
      }
    } else if (const auto* escalate = std::get_if<EscalateOp>(op);
               escalate != nullptr && escalate->status.ok()) {
      notice.parties.insert(notice.parties.end(), escalate->receipt.recipients.begin(),
                            escalate->receipt.recipients.end());
    }
  }
  if (notice.parties.empty()) return Status::Ok();
  std::sort(notice.parties.begin(), notice.parties.end());
  notice.parties.erase(std::unique(notice.parties.begin(), notice.parties.end()),
                       notice.parties.end());
  for (const std::string& payload : EncodeCommitNotice(notice)) {
    if (Status s = writer_->Query("SELECT pg_notify($1, $2)",
                                  {PgParam::Text(kCommitChannel), PgParam::Text(payload)});
        !s.ok()) {
      return s;
    }
  }
  return Status::Ok();
}

Status PgStore::ApplyOne(WriteOp& op, int64_t now) {
  return std::visit([this, now](auto& o) { return o.status = this->ApplyOp(o, now); }, op);
}

Status PgStore::LoadReceipt(int64_t message_pk, StoredReceipt* receipt) {
  PgResult q;
  if (Status s =
          writer_->Query("SELECT recipient FROM deliveries WHERE message = $1 ORDER BY recipient",
                         {PgParam::Int(message_pk)}, &q);
      !s.ok()) {
    return s;
  }
  for (int i = 0; i < q.rows(); ++i) receipt->recipients.push_back(q.Text(i, 0));
  PgResult r;
  if (Status s = writer_->Query("SELECT recipient, reason FROM disclosures WHERE message_id = $1 "
                                "AND outcome = 'refused' ORDER BY recipient",
                                {PgParam::Text(receipt->message_id)}, &r);
      !s.ok()) {
    return s;
  }
  for (int i = 0; i < r.rows(); ++i) receipt->refusals.push_back({r.Text(i, 0), r.Text(i, 1)});
  return Status::Ok();
}

struct PgStore::RecordRow {
  std::string event;
  std::string outcome;
  std::string message_id;
  std::optional<int64_t> delivery_id;
  std::string sender;
  std::string recipient;
  std::string subject_hash;
  std::string message_type;
  std::string legal_basis;
  std::string legal_citation;
  std::string handling;
  std::string view;
  std::string content_hash;
  std::string reason;
  std::string certificate_subject;
  std::string certificate_fingerprint;
};

Status PgStore::InsertRecord(const RecordRow& row, int64_t now, uint64_t* index) {
  if (!log_locked_) return {Code::kInternal, "disclosure log: appending without its lock"};
  PgConn& w = *writer_;
  PgResult q;
  // RETURNING gives the record as stored: the leaf is made from exactly what exports will read.
  if (Status s = w.Query(
          "INSERT INTO disclosures (leaf_index, occurred_at, event, outcome, message_id, "
          "delivery_id, sender, recipient, subject_hash, message_type, legal_basis, "
          "legal_citation, handling, view, content_hash, reason, sender_certificate_subject, "
          "sender_certificate_fingerprint, instance, version) VALUES ($1, $2, $3, $4, $5, $6, "
          "$7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20) "
          "RETURNING leaf_index, occurred_at, event, outcome, message_id, delivery_id, sender, "
          "sender_certificate_subject, sender_certificate_fingerprint, recipient, subject_hash, "
          "message_type, view, content_hash, legal_basis, legal_citation, handling, reason, "
          "instance, version",
          {PgParam::Int(Clamp(log_.size())),
           PgParam::Int(now),
           PgParam::Text(row.event),
           PgParam::Text(row.outcome),
           PgParam::Text(row.message_id),
           PgParam::Int(row.delivery_id),
           PgParam::Text(row.sender),
           PgParam::Text(row.recipient),
           PgParam::Bytes(row.subject_hash),
           PgParam::Text(row.message_type),
           PgParam::Text(row.legal_basis),
           PgParam::Text(row.legal_citation),
           PgParam::Text(row.handling),
           PgParam::Text(row.view),
           PgParam::Bytes(row.content_hash),
           PgParam::Text(row.reason),
           PgParam::Text(row.certificate_subject),
           PgParam::Text(row.certificate_fingerprint),
           PgParam::Text(options_.instance),
           PgParam::Text(options_.version)},
          &q);
      !s.ok()) {
    return s;
  }
  const v1::DisclosureRecord record = RecordFromRow(q, 0);
  if (record.index() != log_.size()) {
    return {Code::kInternal, "disclosure log out of step: record " +
                                 std::to_string(record.index()) + " but log size " +
                                 std::to_string(log_.size())};
  }
  std::vector<merkle::Node> completed;
  if (Status s = log_.Append(merkle::RecordLeafHash(record), &completed); !s.ok()) return s;
  for (const merkle::Node& node : completed) {
    if (Status s = w.Query("INSERT INTO merkle_nodes (level, idx, hash) VALUES ($1, $2, $3)",
                           {PgParam::Int(node.id.level), PgParam::Int(Clamp(node.id.index)),
                            PgParam::Bytes(node.hash)});
        !s.ok()) {
      return s;
    }
  }
  if (index != nullptr) *index = record.index();
  return Status::Ok();
}

Status PgStore::InsertDisclosureRecord(const NewMessage& m, int64_t now, bool disclosed,
                                       int64_t delivery_id, const RecipientDisclosure& basis,
                                       const std::string& recipient, const std::string& view,
                                       const std::string& content_hash, const std::string& reason) {
  const bool own_basis = basis.legal_basis.empty();
  RecordRow row{disclosed ? m.event : "refuse",
                disclosed ? "disclosed" : "refused",
                m.message_id,
                disclosed ? std::optional<int64_t>(delivery_id) : std::nullopt,
                m.sender,
                recipient,
                m.subject_hash,
                m.message_type,
                own_basis ? m.legal_basis : basis.legal_basis,
                own_basis ? m.legal_citation : basis.legal_citation,
                m.handling,
                view,
                content_hash,
                reason,
                m.sender_certificate_subject,
                m.sender_certificate_fingerprint};
  return InsertRecord(row, now);
}

Status PgStore::ApplyOp(CallRecordOp& op, int64_t now) {
  RecordRow row;
  row.event = op.event;
  row.outcome = op.event == "deny" ? "refused" : "read";
  row.sender = op.party;
  row.recipient = op.party;
  row.subject_hash = op.subject_hash;
  row.reason = op.reason;
  row.certificate_subject = op.certificate_subject;
  row.certificate_fingerprint = op.certificate_fingerprint;
  return InsertRecord(row, now, &op.index);
}

Status PgStore::ApplyOp(CheckpointOp& op, int64_t now) {
  if (!log_locked_) return {Code::kInternal, "disclosure log: signing without its lock"};
  PgConn& w = *writer_;
  PgResult last;
  if (Status s = w.Query("SELECT tree_size, root, note, signed_at FROM checkpoints "
                         "ORDER BY tree_size DESC LIMIT 1",
                         {}, &last);
      !s.ok()) {
    return s;
  }
  if (last.rows() == 1 && static_cast<uint64_t>(last.Int(0, 0)) == log_.size()) {
    op.checkpoint = {static_cast<uint64_t>(last.Int(0, 0)), last.Text(0, 1), last.Text(0, 2),
                     last.Int(0, 3)};
    return Status::Ok();
  }
  StoredCheckpoint c{log_.size(), log_.Root(), "", now};
  if (Status s = op.sign(c.tree_size, c.root, &c.note); !s.ok()) return s;
  if (Status s = w.Query(
          "INSERT INTO checkpoints (tree_size, root, note, signed_at) VALUES ($1, $2, $3, $4)",
          {PgParam::Int(Clamp(c.tree_size)), PgParam::Bytes(c.root), PgParam::Bytes(c.note),
           PgParam::Int(now)});
      !s.ok()) {
    return s;
  }
  op.checkpoint = std::move(c);
  return Status::Ok();
}

Status PgStore::ApplyOp(PostOp& op, int64_t now) {
  PgConn& w = *writer_;
  const NewMessage& m = op.message;
  // No other daemon can store this key between the look and the insert: a batch with a post
  // holds the log lock from its start to its commit.
  PgResult existing;
  if (Status s = w.Query("SELECT id, message_id, request_hash, accepted_at FROM messages "
                         "WHERE sender = $1 AND idempotency_key = $2",
                         {PgParam::Text(m.sender), PgParam::Text(m.idempotency_key)}, &existing);
      !s.ok()) {
    return s;
  }
  if (existing.rows() == 1) {
    if (existing.Text(0, 2) != m.request_hash) {
      return {Code::kFailedPrecondition,
              "envelope.idempotency_key: already used by this party for a different message"};
    }
    op.receipt.message_id = existing.Text(0, 1);
    op.receipt.accepted_at = existing.Int(0, 3);
    op.receipt.duplicate = true;
    return LoadReceipt(existing.Int(0, 0), &op.receipt);
  }
  return InsertMessage(m, now, &op.receipt);
}

Status PgStore::InsertMessage(const NewMessage& m, int64_t now, StoredReceipt* receipt) {
  PgConn& w = *writer_;
  *receipt = {m.message_id, {}, m.refusals, now, false};
  for (const RecipientRefusal& refusal : m.refusals) {
    if (Status s =
            InsertDisclosureRecord(m, now, false, 0, {}, refusal.party, "", "", refusal.reason);
        !s.ok()) {
      return s;
    }
  }
  if (m.recipients.empty()) return Status::Ok();  // Refused outright: only the records stay.

  PgResult q;
  if (Status s = w.Query(
          "INSERT INTO messages (message_id, sender, idempotency_key, request_hash, "
          "message_type, legal_basis, handling, accepted_at) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
          {PgParam::Text(m.message_id), PgParam::Text(m.sender), PgParam::Text(m.idempotency_key),
           PgParam::Bytes(m.request_hash), PgParam::Text(m.message_type),
           PgParam::Text(m.legal_basis), PgParam::Text(m.handling), PgParam::Int(now)},
          &q);
      !s.ok()) {
    return s;
  }
  const int64_t message_pk = q.Int(0, 0);
  for (const RecipientDisclosure& r : m.recipients) {
    PgResult d;
    if (Status s = w.Query("INSERT INTO deliveries (message, recipient, envelope, ack_deadline) "
                           "VALUES ($1, $2, $3, $4) RETURNING id",
                           {PgParam::Int(message_pk), PgParam::Text(r.party),
                            PgParam::Bytes(r.envelope), PgParam::Int(r.ack_deadline)},
                           &d);
        !s.ok()) {
      return s;
    }
    if (Status s = InsertDisclosureRecord(m, now, true, d.Int(0, 0), r, r.party, r.view,
                                          r.content_hash, r.note);
        !s.ok()) {
      return s;
    }
    receipt->recipients.push_back(r.party);
  }
  return Status::Ok();
}

Status PgStore::ApplyOp(EscalateOp& op, int64_t now) {
  // Atomic across daemons: a concurrent escalation of the same delivery waits for this row
  // lock, then re-checks the condition on the committed row and changes nothing.
  PgResult q;
  if (Status s = writer_->Query(
          "UPDATE deliveries SET escalated_at = $1 WHERE id = $2 AND ack_deadline IS NOT NULL "
          "AND acked_at IS NULL AND escalated_at IS NULL",
          {PgParam::Int(now), PgParam::Int(Clamp(op.delivery_id))}, &q);
      !s.ok()) {
    return s;
  }
  if (q.Affected() != 1) {
    return {Code::kFailedPrecondition,
            "delivery " + std::to_string(op.delivery_id) +
                " has no open deadline (acknowledged, already escalated or none)"};
  }
  return InsertMessage(op.escalation, now, &op.receipt);
}

Status PgStore::ApplyOp(AckOp& op, int64_t now) {
  PgConn& w = *writer_;
  op.newly_acknowledged = 0;
  for (size_t i = 0; i < op.delivery_ids.size(); ++i) {
    const int64_t id = Clamp(op.delivery_ids[i]);
    PgResult update;
    if (Status s =
            w.Query("UPDATE deliveries SET acked_at = $1, received_at = coalesce(received_at, $1) "
                    "WHERE id = $2 AND recipient = $3 AND acked_at IS NULL",
                    {PgParam::Int(now), PgParam::Int(id), PgParam::Text(op.party)}, &update);
        !s.ok()) {
      return s;
    }
    if (update.Affected() == 1) {
      ++op.newly_acknowledged;
      continue;
    }
    PgResult exists;
    if (Status s = w.Query("SELECT 1 FROM deliveries WHERE id = $1 AND recipient = $2",
                           {PgParam::Int(id), PgParam::Text(op.party)}, &exists);
        !s.ok()) {
      return s;
    }
    if (exists.rows() == 0) {
      return {Code::kNotFound, "delivery_ids[" + std::to_string(i) + "]: no delivery " +
                                   std::to_string(id) + " addressed to this party"};
    }
  }
  return Status::Ok();
}

Status PgStore::ApplyOp(ReceivedOp& op, int64_t now) {
  return writer_->Query(
      "UPDATE deliveries SET received_at = $1 "
      "WHERE id = $2 AND recipient = $3 AND received_at IS NULL",
      {PgParam::Int(now), PgParam::Int(Clamp(op.delivery_id)), PgParam::Text(op.party)});
}

Status PgStore::ApplyOp(FlagOp& op, int64_t now) {
  const FlagInfo& f = op.flag;
  if (Status s = writer_->Query(
          "INSERT INTO flags (flag_id, subject_hash, reason, flagged_by, legal_basis, "
          "flagged_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
          {PgParam::Text(f.flag_id), PgParam::Bytes(op.subject_hash), PgParam::Text(f.reason),
           PgParam::Text(f.flagged_by), PgParam::Text(f.legal_basis), PgParam::Int(now),
           PgParam::Int(f.expires_at)});
      !s.ok()) {
    return s;
  }
  op.flag.flagged_at = now;
  return Status::Ok();
}

Status PgStore::ApplyOp(UnflagOp& op, int64_t now) {
  PgConn& w = *writer_;
  if (Status s = w.Query("UPDATE flags SET unflagged_at = $1, unflagged_by = $2 "
                         "WHERE flag_id = $3 AND unflagged_at IS NULL",
                         {PgParam::Int(now), PgParam::Text(op.party), PgParam::Text(op.flag_id)});
      !s.ok()) {
    return s;
  }
  PgResult q;
  if (Status s = w.Query("SELECT flag_id, reason, flagged_by, legal_basis, flagged_at, expires_at, "
                         "unflagged_at, unflagged_by FROM flags WHERE flag_id = $1",
                         {PgParam::Text(op.flag_id)}, &q);
      !s.ok()) {
    return s;
  }
  if (q.rows() == 0) return {Code::kNotFound, "flag_id: no such flag"};
  op.result = FlagFromRow(q, 0);
  return Status::Ok();
}

Status PgStore::ReadDeliveries(std::string_view party, uint64_t from_id, bool unacked_only,
                               size_t limit, std::vector<StoredDelivery>* out) {
  PgResult q;
  // Two literal queries rather than one with a flag, so the planner can use the partial index.
  Status s = ReaderLease(this).Read([&](PgConn& r) {
    const std::initializer_list<PgParam> params = {
        PgParam::Text(party), PgParam::Int(Clamp(from_id)), PgParam::Int(Clamp(limit))};
    return unacked_only
               ? r.Query(
                     "SELECT d.id, m.message_id, m.sender, m.accepted_at, d.envelope, false "
                     "FROM deliveries d JOIN messages m ON m.id = d.message "
                     "WHERE d.recipient = $1 AND d.id >= $2 AND d.acked_at IS NULL "
                     "ORDER BY d.id LIMIT $3",
                     params, &q)
               : r.Query(
                     "SELECT d.id, m.message_id, m.sender, m.accepted_at, d.envelope, "
                     "d.acked_at IS NOT NULL "
                     "FROM deliveries d JOIN messages m ON m.id = d.message "
                     "WHERE d.recipient = $1 AND d.id >= $2 ORDER BY d.id LIMIT $3",
                     params, &q);
  });
  if (!s.ok()) return s;
  for (int i = 0; i < q.rows(); ++i) {
    out->push_back({static_cast<uint64_t>(q.Int(i, 0)), q.Text(i, 1), q.Text(i, 2), q.Int(i, 3),
                    q.Text(i, 4), q.Int(i, 5) != 0});
  }
  return Status::Ok();
}

Status PgStore::GetMessageState(std::string_view message_id, std::string_view sender,
                                MessageState* out) {
  PgResult q;
  if (Status s = ReaderLease(this).Read([&](PgConn& r) {
        return r.Query(
            "SELECT m.message_type, m.accepted_at, d.recipient, d.received_at, d.acked_at, "
            "d.ack_deadline, d.escalated_at FROM messages m JOIN deliveries d "
            "ON d.message = m.id WHERE m.message_id = $1 AND m.sender = $2 ORDER BY d.recipient",
            {PgParam::Text(message_id), PgParam::Text(sender)}, &q);
      });
      !s.ok()) {
    return s;
  }
  if (q.rows() == 0) return {Code::kNotFound, "message_id: no such message from this party"};
  MessageState state;
  state.message_id = std::string(message_id);
  for (int i = 0; i < q.rows(); ++i) {
    state.message_type = q.Text(i, 0);
    state.posted_at = q.Int(i, 1);
    RecipientState recipient;
    recipient.party = q.Text(i, 2);
    if (!q.IsNull(i, 3)) recipient.received_at = q.Int(i, 3);
    if (!q.IsNull(i, 4)) recipient.acknowledged_at = q.Int(i, 4);
    if (!q.IsNull(i, 5)) recipient.ack_deadline = q.Int(i, 5);
    if (!q.IsNull(i, 6)) recipient.escalated_at = q.Int(i, 6);
    state.recipients.push_back(std::move(recipient));
  }
  *out = std::move(state);
  return Status::Ok();
}

Status PgStore::ListOverdue(int64_t now, size_t limit, std::vector<OverdueDelivery>* out) {
  PgResult q;
  if (Status s = ReaderLease(this).Read([&](PgConn& r) {
        return r.Query(
            "SELECT d.id, d.recipient, d.ack_deadline, d.received_at, m.message_id, m.sender, "
            "m.message_type, m.handling, m.accepted_at, x.subject_hash, x.legal_basis, "
            "x.legal_citation FROM deliveries d JOIN messages m ON m.id = d.message "
            "JOIN disclosures x ON x.message_id = m.message_id AND x.delivery_id = d.id "
            "WHERE d.ack_deadline <= $1 AND d.ack_deadline IS NOT NULL AND d.acked_at IS NULL "
            "AND d.escalated_at IS NULL ORDER BY d.ack_deadline LIMIT $2",
            {PgParam::Int(now), PgParam::Int(Clamp(limit))}, &q);
      });
      !s.ok()) {
    return s;
  }
  for (int i = 0; i < q.rows(); ++i) {
    OverdueDelivery o;
    o.delivery_id = static_cast<uint64_t>(q.Int(i, 0));
    o.recipient = q.Text(i, 1);
    o.deadline = q.Int(i, 2);
    if (!q.IsNull(i, 3)) o.received_at = q.Int(i, 3);
    o.message_id = q.Text(i, 4);
    o.sender = q.Text(i, 5);
    o.message_type = q.Text(i, 6);
    o.handling = q.Text(i, 7);
    o.posted_at = q.Int(i, 8);
    o.subject_hash = q.Text(i, 9);
    o.legal_basis = q.Text(i, 10);
    o.legal_citation = q.Text(i, 11);
    out->push_back(std::move(o));
  }
  return Status::Ok();
}

Status PgStore::NextDeadline(std::optional<int64_t>* out) {
  PgResult q;
  if (Status s = ReaderLease(this).Read([&](PgConn& r) {
        return r.Query(
            "SELECT min(ack_deadline) FROM deliveries WHERE ack_deadline IS NOT NULL "
            "AND acked_at IS NULL AND escalated_at IS NULL",
            {}, &q);
      });
      !s.ok()) {
    return s;
  }
  *out = q.IsNull(0, 0) ? std::nullopt : std::optional<int64_t>(q.Int(0, 0));
  return Status::Ok();
}

Status PgStore::ListFlags(std::string_view subject_hash, bool include_inactive, int64_t now,
                          std::vector<FlagInfo>* out) {
  PgResult q;
  Status s = ReaderLease(this).Read([&](PgConn& r) {
    return subject_hash.empty()
               ? r.Query(
                     "SELECT flag_id, reason, flagged_by, legal_basis, flagged_at, expires_at, "
                     "unflagged_at, unflagged_by FROM flags ORDER BY id DESC",
                     {}, &q)
               : r.Query(
                     "SELECT flag_id, reason, flagged_by, legal_basis, flagged_at, expires_at, "
                     "unflagged_at, unflagged_by FROM flags WHERE subject_hash = $1 "
                     "ORDER BY id DESC",
                     {PgParam::Bytes(subject_hash)}, &q);
  });
  if (!s.ok()) return s;
  for (int i = 0; i < q.rows(); ++i) {
    FlagInfo f = FlagFromRow(q, i);
    if (include_inactive || f.ActiveAt(now)) out->push_back(std::move(f));
  }
  return Status::Ok();
}

Status PgStore::QueryRecords(const RecordFilter& f, uint64_t from_index, size_t limit,
                             std::vector<v1::DisclosureRecord>* out) {
  // Assembled from fixed fragments; every value is bound. Each filter has an index to use.
  std::vector<PgParam> params{PgParam::Int(Clamp(from_index))};
  std::string sql =
      "SELECT leaf_index, occurred_at, event, outcome, message_id, delivery_id, sender, "
      "sender_certificate_subject, sender_certificate_fingerprint, recipient, subject_hash, "
      "message_type, view, content_hash, legal_basis, legal_citation, handling, reason, instance, "
      "version FROM disclosures WHERE leaf_index >= $1";
  auto bind = [&](PgParam p) {
    params.push_back(std::move(p));
    return "$" + std::to_string(params.size());
  };
  if (!f.subject_hash.empty()) sql += " AND subject_hash = " + bind(PgParam::Bytes(f.subject_hash));
  if (!f.party.empty()) {
    const std::string p = bind(PgParam::Text(f.party));
    sql += " AND (sender = " + p + " OR recipient = " + p + ")";
  }
  if (!f.legal_basis.empty()) sql += " AND legal_basis = " + bind(PgParam::Text(f.legal_basis));
  if (!f.message_type.empty()) sql += " AND message_type = " + bind(PgParam::Text(f.message_type));
  if (!f.outcome.empty()) sql += " AND outcome = " + bind(PgParam::Text(f.outcome));
  if (f.from) sql += " AND occurred_at >= " + bind(PgParam::Int(*f.from));
  if (f.until) sql += " AND occurred_at < " + bind(PgParam::Int(*f.until));
  sql += " ORDER BY leaf_index LIMIT " + bind(PgParam::Int(Clamp(limit)));
  PgResult q;
  if (Status s = ReaderLease(this).Read([&](PgConn& r) { return r.QueryOnce(sql, params, &q); });
      !s.ok()) {
    return s;
  }
  for (int i = 0; i < q.rows(); ++i) out->push_back(RecordFromRow(q, i));
  return Status::Ok();
}

Status PgStore::ReadLog(uint64_t from_index, uint64_t to_index, size_t limit,
                        std::vector<LogEntry>* out) {
  PgResult q;
  if (Status s = ReaderLease(this).Read([&](PgConn& r) {
        return r.Query(
            "SELECT d.leaf_index, d.occurred_at, d.event, d.outcome, d.message_id, "
            "d.delivery_id, d.sender, d.sender_certificate_subject, "
            "d.sender_certificate_fingerprint, d.recipient, d.subject_hash, d.message_type, "
            "d.view, d.content_hash, d.legal_basis, d.legal_citation, d.handling, d.reason, "
            "d.instance, d.version, n.hash FROM disclosures d "
            "LEFT JOIN merkle_nodes n ON n.level = 0 AND n.idx = d.leaf_index "
            "WHERE d.leaf_index >= $1 AND d.leaf_index < $2 ORDER BY d.leaf_index LIMIT $3",
            {PgParam::Int(Clamp(from_index)), PgParam::Int(Clamp(to_index)),
             PgParam::Int(Clamp(limit))},
            &q);
      });
      !s.ok()) {
    return s;
  }
  for (int i = 0; i < q.rows(); ++i) {
    out->push_back({RecordFromRow(q, i), q.Text(i, kRecordColumns)});
  }
  return Status::Ok();
}

Status PgStore::GetCheckpoint(uint64_t tree_size, StoredCheckpoint* out) {
  PgResult q;
  Status s = ReaderLease(this).Read([&](PgConn& r) {
    return tree_size == 0 ? r.Query(
                                "SELECT tree_size, root, note, signed_at FROM checkpoints "
                                "ORDER BY tree_size DESC LIMIT 1",
                                {}, &q)
                          : r.Query(
                                "SELECT tree_size, root, note, signed_at FROM checkpoints "
                                "WHERE tree_size = $1",
                                {PgParam::Int(Clamp(tree_size))}, &q);
  });
  if (!s.ok()) return s;
  if (q.rows() == 0) {
    return {Code::kNotFound, tree_size == 0
                                 ? "no checkpoint has been signed yet"
                                 : "tree_size: no checkpoint of size " + std::to_string(tree_size)};
  }
  *out = {static_cast<uint64_t>(q.Int(0, 0)), q.Text(0, 1), q.Text(0, 2), q.Int(0, 3)};
  return Status::Ok();
}

Status PgStore::InclusionProof(uint64_t index, uint64_t tree_size,
                               std::vector<std::string>* proof) {
  return ReaderLease(this).Read([&](PgConn& r) -> Status {
    uint64_t size = 0;
    if (Status s = StoredLogSize(r, &size); !s.ok()) return s;
    if (tree_size > size || index >= tree_size) {
      return {Code::kInvalidArgument, "index: " + std::to_string(index) +
                                          " is not in a log of size " + std::to_string(tree_size)};
    }
    return merkle::InclusionProof(PgNodeReader(r), index, tree_size, proof);
  });
}

Status PgStore::ConsistencyProof(uint64_t size1, uint64_t size2, std::vector<std::string>* proof) {
  return ReaderLease(this).Read([&](PgConn& r) -> Status {
    uint64_t size = 0;
    if (Status s = StoredLogSize(r, &size); !s.ok()) return s;
    if (size2 > size || size1 > size2) {
      return {Code::kInvalidArgument,
              "sizes: need from_size <= to_size <= " + std::to_string(size)};
    }
    return merkle::ConsistencyProof(PgNodeReader(r), size1, size2, proof);
  });
}

}  // namespace infoflyt
