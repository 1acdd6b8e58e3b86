// The PostgreSQL store's schema, its migrations as data (one SQL text per version) and the
// daemon role's grants.
#include "store/pg_schema.h"

#include <iterator>
#include <string>

#include "base/log.h"

namespace infoflyt {
namespace {

// Schema version 1: what SQLite's versions 1 to 3 make, in one step (no PostgreSQL database
// predates the log, so no record ever needs appending late). Messages hold the envelope once;
// deliveries are per recipient and carry the delivery, acknowledgement and escalation state;
// disclosure records are append-only facts for auditors, each a leaf of the disclosure log at
// leaf_index. merkle_nodes holds the complete perfect subtrees (level 0: leaf hashes; since
// version 3 not those of levels 1 to 3, see store/log_nodes.h),
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

// Version 3, as SQLite's version 4: recipients given the same bytes share one stored copy (a
// delivery with same_as set has an empty envelope and reads that delivery's, of the same
// message; deliveries_by_message finds the one it shares, within the same post).
constexpr const char* kSchemaV3 = R"sql(
ALTER TABLE deliveries ADD COLUMN same_as bigint REFERENCES deliveries(id);
)sql";

// Version 4 changes nothing: it brings the numbering in line with SQLite's (whose version 4
// is this one's 3), so that from version 5 on, version N is one schema on both backends.
constexpr const char* kSchemaV4 = "SELECT 1";

// Version 5, as SQLite's: every filter an auditor's query takes has an index; with the leaf
// index in it, so the records come in log order.
constexpr const char* kSchemaV5 = R"sql(
CREATE INDEX disclosures_by_basis ON disclosures (legal_basis, leaf_index);
CREATE INDEX disclosures_by_type ON disclosures (message_type, leaf_index);
CREATE INDEX disclosures_by_outcome ON disclosures (outcome, leaf_index);
)sql";

// Version 6: the party on whose behalf a disclosure was made (DisclosureRecord.on_behalf_of).
constexpr const char* kSchemaV6 = R"sql(
ALTER TABLE disclosures ADD COLUMN on_behalf_of text NOT NULL DEFAULT '';
)sql";

// Version 7, as SQLite's: the texts of the rules each "policy" record names, kept for ever (the
// daemon role may only insert them).
constexpr const char* kSchemaV7 = R"sql(
CREATE TABLE policy_texts (
  sha256 bytea PRIMARY KEY,
  name text NOT NULL,
  body bytea NOT NULL,
  first_recorded_at bigint NOT NULL
);
CREATE TRIGGER policy_texts_append_only BEFORE UPDATE OR DELETE ON policy_texts FOR EACH ROW
  EXECUTE FUNCTION infoflyt_refuse_change('policy texts are append-only');
CREATE TRIGGER policy_texts_no_truncate BEFORE TRUNCATE ON policy_texts FOR EACH STATEMENT
  EXECUTE FUNCTION infoflyt_refuse_change('policy texts are append-only');
)sql";

// Version 8 changes nothing here: it is SQLite's shared_keys, which PostgreSQL has had since
// version 2.
constexpr const char* kSchemaV8 = "SELECT 1";

// Version 9, as SQLite's: the data keys' check values (recorded once; the daemon role may only
// insert them) and when a delivery was found unreadable.
constexpr const char* kSchemaV9 = R"sql(
CREATE TABLE data_keys (
  key_id text PRIMARY KEY,
  key_check bytea NOT NULL,
  recorded_at bigint NOT NULL
);
CREATE TRIGGER data_keys_append_only BEFORE UPDATE OR DELETE ON data_keys FOR EACH ROW
  EXECUTE FUNCTION infoflyt_refuse_change('data keys are recorded once');
CREATE TRIGGER data_keys_no_truncate BEFORE TRUNCATE ON data_keys FOR EACH STATEMENT
  EXECUTE FUNCTION infoflyt_refuse_change('data keys are recorded once');
ALTER TABLE deliveries ADD COLUMN unreadable_at bigint;
)sql";

// Version 10, as SQLite's: when a delivery's body and a flag's person and reason were erased.
constexpr const char* kSchemaV10 = R"sql(
ALTER TABLE deliveries ADD COLUMN erased_at bigint;
ALTER TABLE flags ADD COLUMN erased_at bigint;
CREATE INDEX deliveries_holding_bodies ON deliveries (message) WHERE erased_at IS NULL;
CREATE INDEX messages_by_time ON messages (accepted_at);
)sql";

// Migration i brings the schema from version i to i + 1, each in its own transaction. A new
// migration is added here and, with the same number, in sqlite_schema.cc.
constexpr const char* kMigrations[] = {kSchemaV1, kSchemaV2, kSchemaV3, kSchemaV4, kSchemaV5,
                                       kSchemaV6, kSchemaV7, kSchemaV8, kSchemaV9, kSchemaV10};
constexpr int64_t kSchemaVersion = std::size(kMigrations);

// The advisory lock that makes daemons opening one database migrate it one at a time.
constexpr int64_t kMigrationLock = 0x696e666c79740001;  // "inflyt" 0001

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
      checkpoints, log_head, shared_keys, policy_texts, data_keys FROM infoflyt_daemon;
    GRANT SELECT ON schema_version TO infoflyt_daemon;
    GRANT SELECT, INSERT ON messages, disclosures, merkle_nodes, checkpoints, shared_keys,
      policy_texts, data_keys TO infoflyt_daemon;
    GRANT SELECT, INSERT, UPDATE ON deliveries, flags TO infoflyt_daemon;
    GRANT SELECT, UPDATE ON log_head TO infoflyt_daemon;
  END IF;
END
$$;
)sql";

}  // namespace

Status MigratePgSchema(PgConn& db) {
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

}  // namespace infoflyt
