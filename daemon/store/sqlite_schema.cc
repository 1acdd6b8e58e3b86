// The SQLite store's schema and its migrations, as data: one SQL text per version.
#include "store/sqlite_schema.h"

#include <iterator>
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

// Version 3: the disclosure log. Record id - 1 is the record's leaf index (ids are contiguous:
// AUTOINCREMENT, and rolled-back inserts roll the sequence back too). merkle_nodes holds the
// complete perfect subtrees (level 0: leaf hashes; since version 4 not those of levels 1 to 3,
// see StoresLevel); checkpoints the signed tree heads. Indexes serve auditors' queries by
// person, party and time.
constexpr const char* kSchemaV3 = R"sql(
CREATE TABLE merkle_nodes (
  level INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  hash BLOB NOT NULL,
  PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TABLE checkpoints (
  tree_size INTEGER PRIMARY KEY,
  root BLOB NOT NULL,
  note TEXT NOT NULL,
  signed_at INTEGER NOT NULL
);
CREATE TRIGGER merkle_nodes_no_update BEFORE UPDATE ON merkle_nodes
  BEGIN SELECT RAISE(ABORT, 'the log is append-only'); END;
CREATE TRIGGER merkle_nodes_no_delete BEFORE DELETE ON merkle_nodes
  BEGIN SELECT RAISE(ABORT, 'the log is append-only'); END;
CREATE TRIGGER checkpoints_no_update BEFORE UPDATE ON checkpoints
  BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE TRIGGER checkpoints_no_delete BEFORE DELETE ON checkpoints
  BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE INDEX disclosures_by_subject ON disclosures (subject_hash);
CREATE INDEX disclosures_by_sender ON disclosures (sender);
CREATE INDEX disclosures_by_recipient ON disclosures (recipient);
CREATE INDEX disclosures_by_time ON disclosures (occurred_at);
)sql";

// Version 4, less written per post. Recipients given the same bytes (police and PST both see a
// release notice whole) share one stored copy, which is most of a post's size: a delivery with
// same_as set has an empty envelope and reads that delivery's, of the same message. A message's
// deliveries are found through its disclosure records (by message id, each naming its
// delivery), so deliveries need no index by message.
constexpr const char* kSchemaV4 = R"sql(
ALTER TABLE deliveries ADD COLUMN same_as INTEGER REFERENCES deliveries(id);
DROP INDEX deliveries_by_message;
)sql";

// Version 5, the same on both backends from here on: every filter an auditor's query takes has
// an index that also gives the records in log order (SQLite appends the row id to each).
constexpr const char* kSchemaV5 = R"sql(
CREATE INDEX disclosures_by_basis ON disclosures (legal_basis);
CREATE INDEX disclosures_by_type ON disclosures (message_type);
CREATE INDEX disclosures_by_outcome ON disclosures (outcome);
)sql";

// Version 6: the party on whose behalf a disclosure was made (DisclosureRecord.on_behalf_of).
constexpr const char* kSchemaV6 = R"sql(
ALTER TABLE disclosures ADD COLUMN on_behalf_of TEXT NOT NULL DEFAULT '';
)sql";

// Version 7: the texts of the rules each "policy" record names, by their SHA-256, kept for ever.
constexpr const char* kSchemaV7 = R"sql(
CREATE TABLE policy_texts (
  sha256 BLOB PRIMARY KEY,
  name TEXT NOT NULL,
  body BLOB NOT NULL,
  first_recorded_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TRIGGER policy_texts_no_update BEFORE UPDATE ON policy_texts
  BEGIN SELECT RAISE(ABORT, 'policy texts are append-only'); END;
CREATE TRIGGER policy_texts_no_delete BEFORE DELETE ON policy_texts
  BEGIN SELECT RAISE(ABORT, 'policy texts are append-only'); END;
)sql";

// Version 8: the keys the store's records are bound to (public check values, as PostgreSQL's
// version 2 has them), so that a daemon started with another or a new key refuses to start.
// A store from before records the keys it next starts with.
constexpr const char* kSchemaV8 = R"sql(
CREATE TABLE shared_keys (
  one INTEGER PRIMARY KEY CHECK (one = 1),
  log_origin TEXT NOT NULL,
  log_verifier_key TEXT NOT NULL,
  subject_key_check BLOB NOT NULL,
  recorded_at INTEGER NOT NULL,
  recorded_by TEXT NOT NULL
);
CREATE TRIGGER shared_keys_no_update BEFORE UPDATE ON shared_keys
  BEGIN SELECT RAISE(ABORT, 'the store keys are recorded once'); END;
CREATE TRIGGER shared_keys_no_delete BEFORE DELETE ON shared_keys
  BEGIN SELECT RAISE(ABORT, 'the store keys are recorded once'); END;
)sql";

// Version 9, the same on both backends: envelopes are sealed under data keys (store/data_keys.h);
// each key's public check value is recorded the first time a daemon starts with it, so a
// daemon without one of them refuses to start. A delivery found unreadable says when.
constexpr const char* kSchemaV9 = R"sql(
CREATE TABLE data_keys (
  key_id TEXT PRIMARY KEY,
  key_check BLOB NOT NULL,
  recorded_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TRIGGER data_keys_no_update BEFORE UPDATE ON data_keys
  BEGIN SELECT RAISE(ABORT, 'data keys are recorded once'); END;
CREATE TRIGGER data_keys_no_delete BEFORE DELETE ON data_keys
  BEGIN SELECT RAISE(ABORT, 'data keys are recorded once'); END;
ALTER TABLE deliveries ADD COLUMN unreadable_at INTEGER;
)sql";

// Version 10, the same on both backends: retention (core/retention.h). A delivery whose body was
// erased says when (its envelope is then empty), and so does a flag whose person and reason
// were erased. The indexes find the messages that still hold bodies, and the last one posted
// before a time.
constexpr const char* kSchemaV10 = R"sql(
ALTER TABLE deliveries ADD COLUMN erased_at INTEGER;
ALTER TABLE flags ADD COLUMN erased_at INTEGER;
CREATE INDEX deliveries_holding_bodies ON deliveries (message) WHERE erased_at IS NULL;
CREATE INDEX messages_by_time ON messages (accepted_at);
)sql";

// Migration i brings the schema from version i to i + 1, each in its own transaction. A new
// migration is added here and, with the same number, in pg_schema.cc.
constexpr const char* kMigrations[] = {kSchemaV1, kSchemaV2, kSchemaV3, kSchemaV4, kSchemaV5,
                                       kSchemaV6, kSchemaV7, kSchemaV8, kSchemaV9, kSchemaV10};
constexpr int64_t kSchemaVersion = std::size(kMigrations);

}  // namespace

Status MigrateSqliteSchema(SqliteDb& db) {
  auto& version_stmt = db.Prepare("PRAGMA user_version");
  if (version_stmt.Step() != SQLITE_ROW) return db.Failure("reading schema version");
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
    if (version > 0) LogInfo("store schema migrated to version " + std::to_string(v + 1));
  }
  return Status::Ok();
}

}  // namespace infoflyt
