#include "store/pg_store.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <string>

#include "base/log.h"
#include "merkle/proof.h"
#include "store/pg_listener.h"
#include "store/pg_schema.h"
#include "store/record_columns.h"

namespace infoflyt {
namespace {

// The writer gives up on a lock held for long (another daemon hung mid-batch: UNAVAILABLE, and
// the batch is retried), and the server ends a session that sits in a transaction, so that one
// hung daemon cannot stop the others' appends for good.
constexpr const char* kWriterSetup =
    "SET lock_timeout = '30s'; SET idle_in_transaction_session_timeout = '60s'";

// Reader sessions cannot write, as SQLite's readers are query_only.
constexpr const char* kReaderSetup = "SET default_transaction_read_only = on";

// The advisory lock under which a starting daemon records its data keys (RecordDataKeys).
constexpr int64_t kDataKeysLock = 0x696e666c79740002;  // "inflyt" 0002

// Positions and limits are unsigned in the interface and bigint in the database.
int64_t Clamp(uint64_t v) {
  return static_cast<int64_t>(std::min<uint64_t>(v, std::numeric_limits<int64_t>::max()));
}

// Log nodes as stored, read through one connection: a whole batch in one query.
class PgStoredNodes final : public StoredNodes {
 public:
  explicit PgStoredNodes(PgConn& conn) : conn_(&conn) {}
  Status Read(std::span<const merkle::NodeId> ids,
              std::vector<std::optional<std::string>>* hashes) const override {
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
    for (int i = 0; i < q.rows(); ++i) {
      if (q.IsNull(i, 0)) {
        hashes->emplace_back();
      } else {
        hashes->emplace_back(q.Text(i, 0));
      }
    }
    return Status::Ok();
  }
  Status ReadLeaves(uint64_t begin, uint64_t end, std::vector<std::string>* hashes) const override {
    PgResult q;
    if (Status s =
            conn_->Query("SELECT hash FROM merkle_nodes WHERE level = 0 AND idx >= $1 AND idx < $2 "
                         "ORDER BY idx",
                         {PgParam::Int(Clamp(begin)), PgParam::Int(Clamp(end))}, &q);
        !s.ok()) {
      return s;
    }
    for (int i = 0; i < q.rows(); ++i) hashes->push_back(q.Text(i, 0));
    return Status::Ok();
  }

 private:
  PgConn* conn_;
};

// One row of a result, as RecordFromColumns and FlagFromColumns read it.
class PgRow {
 public:
  PgRow(const PgResult& result, int row) : result_(result), row_(row) {}
  int64_t Int(int column) const { return result_.Int(row_, column); }
  std::string Text(int column) const { return result_.Text(row_, column); }
  bool IsNull(int column) const { return result_.IsNull(row_, column); }

 private:
  const PgResult& result_;
  int row_;
};

// Flag `flag_id` through `conn` (nullopt if none).
Status FindFlagIn(PgConn& conn, std::string_view flag_id, std::optional<FlagInfo>* out) {
  PgResult q;
  if (Status s =
          conn.Query("SELECT flag_id, reason, flagged_by, legal_basis, flagged_at, expires_at, "
                     "unflagged_at, unflagged_by, subject_hash FROM flags WHERE flag_id = $1",
                     {PgParam::Text(flag_id)}, &q);
      !s.ok()) {
    return s;
  }
  if (q.rows() == 1) *out = FlagFromColumns(PgRow(q, 0));
  return Status::Ok();
}

// The flags on `subject_hash` (all if empty) through `conn`, newest first.
Status ReadFlagsIn(PgConn& conn, std::string_view subject_hash, bool include_inactive, int64_t now,
                   std::vector<FlagInfo>* out) {
  PgResult q;
  Status s =
      subject_hash.empty()
          ? conn.Query(
                "SELECT flag_id, reason, flagged_by, legal_basis, flagged_at, expires_at, "
                "unflagged_at, unflagged_by, subject_hash FROM flags WHERE erased_at IS NULL "
                "ORDER BY id DESC",
                {}, &q)
          : conn.Query(
                "SELECT flag_id, reason, flagged_by, legal_basis, flagged_at, expires_at, "
                "unflagged_at, unflagged_by, subject_hash FROM flags WHERE subject_hash = $1 "
                "ORDER BY id DESC",
                {PgParam::Bytes(subject_hash)}, &q);
  if (!s.ok()) return s;
  for (int i = 0; i < q.rows(); ++i) {
    FlagInfo f = FlagFromColumns(PgRow(q, i));
    if (include_inactive || f.ActiveAt(now)) out->push_back(std::move(f));
  }
  return Status::Ok();
}

// An auditor's scope as conditions on the records of `table` ("" or an alias with its "."),
// its values bound through `bind` (which appends a parameter and returns its "$n").
std::string ScopeConditions(const ScopeFilter& scope, const std::string& table,
                            const std::function<std::string(PgParam)>& bind) {
  std::string sql;
  for (const std::string& prefix : scope.excluded_prefixes) {
    const std::string p = bind(PgParam::Text(prefix + "%"));
    sql += " AND " + table + "sender NOT LIKE " + p + " AND " + table + "recipient NOT LIKE " + p +
           " AND " + table + "on_behalf_of NOT LIKE " + p;
  }
  if (!scope.reader.empty()) {
    sql += " AND NOT (" + table + "event = 'read' AND " + table + "sender LIKE 'auditor/%' AND " +
           table + "sender <> " + bind(PgParam::Text(scope.reader)) + ")";
  }
  return sql;
}

std::optional<int64_t> OptionalInt(const PgResult& q, int row, int column) {
  if (q.IsNull(row, column)) return std::nullopt;
  return q.Int(row, column);
}

}  // namespace

// The writer's rows, for the store core.
class PgStore::Rows final : public StoreRows {
 public:
  explicit Rows(PgStore* store) : store_(store), w_(*store->writer_), nodes_(w_) {}

  // Writes whose answers the core does not need go out without waiting (PgConn::Send) and are
  // answered at the op's end, so that a post costs a few round trips rather than one per row.
  Status Begin() override { return w_.SendCommand("BEGIN"); }
  Status Savepoint() override { return w_.SendCommand("SAVEPOINT op"); }
  Status RollbackToSavepoint() override { return w_.Exec("ROLLBACK TO SAVEPOINT op"); }
  Status ReleaseSavepoint() override { return w_.SendCommand("RELEASE SAVEPOINT op"); }
  Status EndOp() override { return w_.Sync(); }
  Status Commit(std::span<WriteOp* const> ops) override {
    if (Status s = store_->NotifyCommit(ops); !s.ok()) return s;
    return w_.Commit();
  }
  void Rollback() override { w_.Rollback(); }

  Status LockLogHead(std::optional<uint64_t>* size) override {
    // Held until the transaction ends: appends from all daemons queue here, in commit order.
    PgResult q;
    if (Status s = w_.Query("SELECT size FROM log_head FOR UPDATE", {}, &q); !s.ok()) return s;
    if (q.rows() != 1) return {Code::kInternal, "disclosure log: log_head has no row"};
    *size = static_cast<uint64_t>(q.Int(0, 0));
    return Status::Ok();
  }
  Status SetLogHead(uint64_t size) override {
    return w_.Send("UPDATE log_head SET size = $1", {PgParam::Int(Clamp(size))});
  }
  const StoredNodes& Nodes() override { return nodes_; }

  Status FindMessage(std::string_view sender, std::string_view idempotency_key,
                     std::optional<ExistingMessage>* out) override {
    PgResult q;
    if (Status s = w_.Query("SELECT message_id, request_hash, accepted_at FROM messages "
                            "WHERE sender = $1 AND idempotency_key = $2",
                            {PgParam::Text(sender), PgParam::Text(idempotency_key)}, &q);
        !s.ok()) {
      return s;
    }
    if (q.rows() == 1) *out = ExistingMessage{q.Text(0, 0), q.Text(0, 1), q.Int(0, 2)};
    return Status::Ok();
  }

  Status ReadOutcomes(std::string_view message_id, StoredReceipt* receipt) override {
    PgResult q;
    if (Status s = w_.Query("SELECT recipient, reason, outcome = 'disclosed' FROM disclosures "
                            "WHERE message_id = $1 AND outcome IN ('disclosed', 'refused') "
                            "AND on_behalf_of = '' "
                            "ORDER BY recipient",
                            {PgParam::Text(message_id)}, &q);
        !s.ok()) {
      return s;
    }
    for (int i = 0; i < q.rows(); ++i) {
      if (q.Int(i, 2) != 0) {
        receipt->recipients.push_back(q.Text(i, 0));
      } else {
        receipt->refusals.push_back({q.Text(i, 0), q.Text(i, 1), ""});
      }
    }
    return Status::Ok();
  }

  Status InsertMessage(const NewMessage& m, int64_t now, std::optional<int64_t>* id) override {
    PgResult q;
    if (Status s = w_.Query(
            "INSERT INTO messages (message_id, sender, idempotency_key, request_hash, "
            "message_type, legal_basis, handling, accepted_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
            "ON CONFLICT (sender, idempotency_key) DO NOTHING RETURNING id",
            {PgParam::Text(m.message_id), PgParam::Text(m.sender), PgParam::Text(m.idempotency_key),
             PgParam::Bytes(m.request_hash), PgParam::Text(m.message_type),
             PgParam::Text(m.legal_basis), PgParam::Text(m.handling), PgParam::Int(now)},
            &q);
        !s.ok()) {
      return s;
    }
    if (q.rows() == 1) *id = q.Int(0, 0);
    return Status::Ok();
  }

  Status InsertDeliveries(int64_t message, const NewMessage& m,
                          const std::vector<std::optional<size_t>>& same_as,
                          const std::vector<std::string>& sealed,
                          std::vector<int64_t>* ids) override {
    // All in one round trip: a delivery that shares an earlier one's envelope finds it by
    // message and recipient (deliveries_by_message), inserted just before in this transaction.
    for (size_t i = 0; i < m.recipients.size(); ++i) {
      const RecipientDisclosure& r = m.recipients[i];
      // A sharing delivery stores no envelope and names the recipient it shares with.
      std::string_view envelope = sealed[i];
      std::string_view shares_with;
      if (same_as[i]) {
        envelope = {};
        shares_with = m.recipients[*same_as[i]].party;
      }
      if (Status s = w_.SendForResult(
              "INSERT INTO deliveries (message, recipient, envelope, ack_deadline, same_as) "
              "VALUES ($1, $2, $3, $4, "
              "(SELECT id FROM deliveries WHERE message = $1 AND recipient = $5)) RETURNING id",
              {PgParam::Int(message), PgParam::Text(r.party), PgParam::Bytes(envelope),
               PgParam::Int(r.ack_deadline), PgParam::Text(shares_with)});
          !s.ok()) {
        return s;
      }
    }
    std::vector<PgResult> results;
    if (Status s = w_.SyncResults(&results); !s.ok()) return s;
    for (const PgResult& q : results) ids->push_back(q.Int(0, 0));
    return Status::Ok();
  }

  Status InsertRecord(const v1::DisclosureRecord& r) override {
    return w_.SendOwnRow(
        "INSERT INTO disclosures (leaf_index, occurred_at, event, outcome, message_id, "
        "delivery_id, sender, recipient, subject_hash, message_type, legal_basis, "
        "legal_citation, handling, view, content_hash, reason, sender_certificate_subject, "
        "sender_certificate_fingerprint, instance, version, on_behalf_of) VALUES ($1, $2, $3, "
        "$4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)",
        {PgParam::Int(Clamp(r.index())),
         PgParam::Int(OccurredAt(r)),
         PgParam::Text(r.event()),
         PgParam::Text(r.outcome()),
         PgParam::Text(r.message_id()),
         PgParam::Int(DeliveryIdOf(r)),
         PgParam::Text(r.sender()),
         PgParam::Text(r.recipient()),
         PgParam::Bytes(r.subject_hash()),
         PgParam::Text(r.message_type()),
         PgParam::Text(r.legal_basis()),
         PgParam::Text(r.legal_citation()),
         PgParam::Text(r.handling()),
         PgParam::Text(r.view()),
         PgParam::Bytes(r.content_hash()),
         PgParam::Text(r.reason()),
         PgParam::Text(r.sender_certificate_subject()),
         PgParam::Text(r.sender_certificate_fingerprint()),
         PgParam::Text(r.instance()),
         PgParam::Text(r.version()),
         PgParam::Text(r.on_behalf_of())});
  }

  Status InsertNodes(std::span<const merkle::Node> nodes) override {
    for (const merkle::Node& node : nodes) {
      if (Status s =
              w_.SendOwnRow("INSERT INTO merkle_nodes (level, idx, hash) VALUES ($1, $2, $3)",
                            {PgParam::Int(node.id.level), PgParam::Int(Clamp(node.id.index)),
                             PgParam::Bytes(node.hash)});
          !s.ok()) {
        return s;
      }
    }
    return Status::Ok();
  }

  Status LatestCheckpoint(std::optional<StoredCheckpoint>* out) override {
    PgResult q;
    if (Status s = w_.Query("SELECT tree_size, root, note, signed_at FROM checkpoints "
                            "ORDER BY tree_size DESC LIMIT 1",
                            {}, &q);
        !s.ok()) {
      return s;
    }
    if (q.rows() == 1) {
      *out = StoredCheckpoint{static_cast<uint64_t>(q.Int(0, 0)), q.Text(0, 1), q.Text(0, 2),
                              q.Int(0, 3)};
    }
    return Status::Ok();
  }

  Status InsertCheckpoint(const StoredCheckpoint& c) override {
    return w_.SendOwnRow(
        "INSERT INTO checkpoints (tree_size, root, note, signed_at) VALUES ($1, $2, $3, $4)",
        {PgParam::Int(Clamp(c.tree_size)), PgParam::Bytes(c.root), PgParam::Bytes(c.note),
         PgParam::Int(c.signed_at)});
  }

  Status MarkEscalated(uint64_t delivery, int64_t now, bool* marked) override {
    PgResult q;
    if (Status s = w_.Query(
            "UPDATE deliveries SET escalated_at = $1 WHERE id = $2 AND ack_deadline IS NOT NULL "
            "AND acked_at IS NULL AND escalated_at IS NULL",
            {PgParam::Int(now), PgParam::Int(Clamp(delivery))}, &q);
        !s.ok()) {
      return s;
    }
    *marked = q.Affected() == 1;
    return Status::Ok();
  }

  Status Acknowledge(std::string_view party, uint64_t delivery, int64_t now,
                     bool* changed) override {
    PgResult q;
    if (Status s =
            w_.Query("UPDATE deliveries SET acked_at = $1, received_at = coalesce(received_at, $1) "
                     "WHERE id = $2 AND recipient = $3 AND acked_at IS NULL",
                     {PgParam::Int(now), PgParam::Int(Clamp(delivery)), PgParam::Text(party)}, &q);
        !s.ok()) {
      return s;
    }
    *changed = q.Affected() == 1;
    return Status::Ok();
  }

  Status DisclosureOf(uint64_t delivery, std::optional<v1::DisclosureRecord>* out) override {
    PgResult q;
    if (Status s = w_.Query(
            "SELECT ds.leaf_index, ds.occurred_at, ds.event, ds.outcome, ds.message_id, "
            "ds.delivery_id, ds.sender, ds.sender_certificate_subject, "
            "ds.sender_certificate_fingerprint, ds.recipient, ds.subject_hash, ds.message_type, "
            "ds.view, ds.content_hash, ds.legal_basis, ds.legal_citation, ds.handling, ds.reason, "
            "ds.instance, ds.version, ds.on_behalf_of FROM deliveries d "
            "JOIN messages m ON m.id = d.message "
            "JOIN disclosures ds ON ds.message_id = m.message_id AND ds.delivery_id = d.id "
            "AND ds.outcome = 'disclosed' "
            "WHERE d.id = $1",
            {PgParam::Int(Clamp(delivery))}, &q);
        !s.ok()) {
      return s;
    }
    if (q.rows() == 1) *out = RecordFromColumns(PgRow(q, 0));
    return Status::Ok();
  }

  Status DeliveryExists(std::string_view party, uint64_t delivery, bool* exists) override {
    PgResult q;
    if (Status s = w_.Query("SELECT 1 FROM deliveries WHERE id = $1 AND recipient = $2",
                            {PgParam::Int(Clamp(delivery)), PgParam::Text(party)}, &q);
        !s.ok()) {
      return s;
    }
    *exists = q.rows() == 1;
    return Status::Ok();
  }

  Status MarkReceived(std::string_view party, uint64_t delivery, int64_t now,
                      bool unreadable) override {
    if (unreadable) {
      return w_.Send(
          "UPDATE deliveries SET received_at = coalesce(received_at, $1), "
          "unreadable_at = coalesce(unreadable_at, $1) "
          "WHERE id = $2 AND recipient = $3 AND (received_at IS NULL OR unreadable_at IS NULL)",
          {PgParam::Int(now), PgParam::Int(Clamp(delivery)), PgParam::Text(party)});
    }
    return w_.Send(
        "UPDATE deliveries SET received_at = $1 "
        "WHERE id = $2 AND recipient = $3 AND received_at IS NULL",
        {PgParam::Int(now), PgParam::Int(Clamp(delivery)), PgParam::Text(party)});
  }

  Status ReadEnvelopes(uint64_t after, std::string_view header, size_t limit,
                       std::vector<StoredEnvelope>* out) override {
    PgResult q;
    if (Status s = w_.Query(
            "SELECT d.id, m.message_id, d.envelope, x.content_hash FROM deliveries d "
            "JOIN messages m ON m.id = d.message "
            "JOIN disclosures x ON x.message_id = m.message_id "
            "AND x.delivery_id = d.id AND x.outcome = 'disclosed' "
            "WHERE d.id > $1 AND d.same_as IS NULL AND d.erased_at IS NULL "
            "AND position($3 in d.envelope) <> 1 ORDER BY d.id LIMIT $2",
            {PgParam::Int(Clamp(after)), PgParam::Int(Clamp(limit)), PgParam::Bytes(header)}, &q);
        !s.ok()) {
      return s;
    }
    for (int i = 0; i < q.rows(); ++i) {
      out->push_back(
          {static_cast<uint64_t>(q.Int(i, 0)), q.Text(i, 1), q.Text(i, 2), q.Text(i, 3)});
    }
    return Status::Ok();
  }

  Status UpdateEnvelope(uint64_t delivery, std::string_view value) override {
    return w_.Send("UPDATE deliveries SET envelope = $1 WHERE id = $2",
                   {PgParam::Bytes(value), PgParam::Int(Clamp(delivery))});
  }

  Status ReadRetainedMessages(uint64_t after, int64_t posted_before, size_t limit,
                              std::vector<RetainedMessage>* out) override {
    // Only messages up to the last one posted by `posted_before` (by the index on accepted_at),
    // through the index of deliveries still holding bodies.
    PgResult q;
    if (Status s = w_.Query(
            "SELECT m.id, m.legal_basis, m.accepted_at, "
            "CASE WHEN bool_and(d.acked_at IS NOT NULL) THEN max(d.acked_at) END "
            "FROM deliveries d JOIN messages m ON m.id = d.message "
            "WHERE d.erased_at IS NULL AND d.message > $1 AND d.message <= "
            "(SELECT max(id) FROM messages WHERE accepted_at <= $2) AND m.accepted_at <= $2 "
            "GROUP BY m.id ORDER BY m.id LIMIT $3",
            {PgParam::Int(Clamp(after)), PgParam::Int(posted_before), PgParam::Int(Clamp(limit))},
            &q);
        !s.ok()) {
      return s;
    }
    for (int i = 0; i < q.rows(); ++i) {
      RetainedMessage m{static_cast<uint64_t>(q.Int(i, 0)), q.Text(i, 1), q.Int(i, 2),
                        std::nullopt};
      if (!q.IsNull(i, 3)) m.acknowledged_at = q.Int(i, 3);
      out->push_back(std::move(m));
    }
    return Status::Ok();
  }

  Status EraseBodies(uint64_t message, int64_t now, std::vector<uint64_t>* deliveries) override {
    PgResult q;
    if (Status s = w_.Query("UPDATE deliveries SET envelope = '', erased_at = $1 "
                            "WHERE message = $2 AND erased_at IS NULL RETURNING id",
                            {PgParam::Int(now), PgParam::Int(Clamp(message))}, &q);
        !s.ok()) {
      return s;
    }
    for (int i = 0; i < q.rows(); ++i) deliveries->push_back(static_cast<uint64_t>(q.Int(i, 0)));
    return Status::Ok();
  }

  Status ReadEndedFlags(int64_t now, std::vector<FlagInfo>* out) override {
    PgResult q;
    if (Status s = w_.Query(
            "SELECT flag_id, reason, flagged_by, legal_basis, flagged_at, expires_at, "
            "unflagged_at, unflagged_by, subject_hash FROM flags WHERE erased_at IS NULL AND "
            "(unflagged_at IS NOT NULL OR expires_at <= $1) ORDER BY id",
            {PgParam::Int(now)}, &q);
        !s.ok()) {
      return s;
    }
    for (int i = 0; i < q.rows(); ++i) out->push_back(FlagFromColumns(PgRow(q, i)));
    return Status::Ok();
  }

  Status EraseFlag(std::string_view flag_id, int64_t now) override {
    return w_.Send(
        "UPDATE flags SET subject_hash = '', reason = '', erased_at = $1 WHERE flag_id = $2",
        {PgParam::Int(now), PgParam::Text(flag_id)});
  }

  Status InsertFlag(const FlagOp& op, int64_t now) override {
    const FlagInfo& f = op.flag;
    return w_.Send(
        "INSERT INTO flags (flag_id, subject_hash, reason, flagged_by, legal_basis, "
        "flagged_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        {PgParam::Text(f.flag_id), PgParam::Bytes(op.subject_hash), PgParam::Text(f.reason),
         PgParam::Text(f.flagged_by), PgParam::Text(f.legal_basis), PgParam::Int(now),
         PgParam::Int(f.expires_at)});
  }

  Status Unflag(std::string_view flag_id, std::string_view party, int64_t now,
                std::optional<FlagInfo>* after) override {
    if (Status s = w_.Query("UPDATE flags SET unflagged_at = $1, unflagged_by = $2 "
                            "WHERE flag_id = $3 AND unflagged_at IS NULL",
                            {PgParam::Int(now), PgParam::Text(party), PgParam::Text(flag_id)});
        !s.ok()) {
      return s;
    }
    return FindFlagIn(w_, flag_id, after);
  }

  Status KeepPolicyText(const PolicyText& t, int64_t now) override {
    return w_.Send(
        "INSERT INTO policy_texts (sha256, name, body, first_recorded_at) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (sha256) DO NOTHING",
        {PgParam::Bytes(t.sha256), PgParam::Text(t.name), PgParam::Bytes(t.text),
         PgParam::Int(now)});
  }

  Status FindFlag(std::string_view flag_id, std::optional<FlagInfo>* flag) override {
    return FindFlagIn(w_, flag_id, flag);
  }

  Status ReadFlags(std::string_view subject_hash, bool include_inactive, int64_t now,
                   std::vector<FlagInfo>* out) override {
    return ReadFlagsIn(w_, subject_hash, include_inactive, now, out);
  }

 private:
  PgStore* const store_;
  PgConn& w_;
  PgStoredNodes nodes_;
};

PgStore::PgStore(PgStoreOptions options)
    : options_(std::move(options)), core_(options_.instance, options_.version) {}

PgStore::~PgStore() = default;

Status PgStore::Open(const PgStoreOptions& options, std::unique_ptr<PgStore>* out) {
  std::unique_ptr<PgStore> store(new PgStore(options));
  if (Status s = PgConn::Connect(options.conninfo, options.password, kWriterSetup, &store->writer_);
      !s.ok())
    return s;
  if (Status s = store->ReadBackDurability(); !s.ok()) return s;
  if (Status s = MigratePgSchema(*store->writer_); !s.ok()) return s;
  if (Status s = store->OpenLog(); !s.ok()) return s;
  for (int i = 0; i < std::max(options.readers, 1); ++i) {
    std::unique_ptr<PgConn> reader;
    if (Status s = PgConn::Connect(options.conninfo, options.password, kReaderSetup, &reader);
        !s.ok())
      return s;
    store->readers_.Add(std::move(reader));
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

Status PgStore::RecordDataKeys(const std::vector<DataKeys::Check>& mine, int64_t now,
                               std::vector<DataKeys::Check>* recorded) {
  PgConn& w = *writer_;
  if (Status s = w.EnsureConnected(); !s.ok()) return s;
  auto read = [&w](std::vector<DataKeys::Check>* out) {
    out->clear();
    PgResult q;
    if (Status s =
            w.Query("SELECT key_id, key_check FROM data_keys ORDER BY recorded_at, key_id", {}, &q);
        !s.ok()) {
      return s;
    }
    for (int i = 0; i < q.rows(); ++i) out->push_back({q.Text(i, 0), q.Text(i, 1)});
    return Status::Ok();
  };
  if (Status s = w.Exec("BEGIN"); !s.ok()) return s;
  // One daemon at a time: of two first starts on a new database, the second finds the first's
  // key recorded, records nothing of its own, and is refused naming its key file.
  Status s = w.Query("SELECT pg_advisory_xact_lock($1)", {PgParam::Int(kDataKeysLock)});
  if (s.ok()) s = read(recorded);
  if (s.ok()) {
    for (const DataKeys::Check& c : ChecksToRecord(mine, *recorded)) {
      s = w.Query("INSERT INTO data_keys (key_id, key_check, recorded_at) VALUES ($1, $2, $3)",
                  {PgParam::Text(c.key_id), PgParam::Bytes(c.check), PgParam::Int(now)});
      if (!s.ok()) break;
    }
  }
  if (s.ok()) s = read(recorded);
  if (s.ok()) s = w.Commit();
  if (!s.ok()) w.Rollback();
  return s;
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
  rows_ = std::make_unique<Rows>(this);
  return core_.LoadLog(rows_->Nodes(), size);
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
  return core_.Apply(*rows_, ops, now);
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
    // Sent with the COMMIT that follows, in its round trip.
    if (Status s = writer_->Send("SELECT pg_notify($1, $2)",
                                 {PgParam::Text(kCommitChannel), PgParam::Text(payload)});
        !s.ok()) {
      return s;
    }
  }
  return Status::Ok();
}

Status PgStore::ReadDeliveries(std::string_view party, uint64_t from_id, bool unacked_only,
                               size_t limit, std::vector<StoredDelivery>* out) {
  PgResult q;
  // Two literal queries rather than one with a flag, so the planner can use the partial index.
  Status s = Read([&](PgConn& r) {
    const std::initializer_list<PgParam> params = {
        PgParam::Text(party), PgParam::Int(Clamp(from_id)), PgParam::Int(Clamp(limit))};
    return unacked_only
               ? r.Query(
                     "SELECT d.id, m.message_id, m.sender, m.accepted_at, "
                     "coalesce(s.envelope, d.envelope), false, x.content_hash, "
                     "d.erased_at IS NOT NULL, d.ack_deadline "
                     "FROM deliveries d JOIN messages m ON m.id = d.message "
                     "LEFT JOIN deliveries s ON s.id = d.same_as "
                     "JOIN disclosures x ON x.message_id = m.message_id AND x.delivery_id = d.id "
                     "AND x.outcome = 'disclosed' "
                     "WHERE d.recipient = $1 AND d.id >= $2 AND d.acked_at IS NULL "
                     "ORDER BY d.id LIMIT $3",
                     params, &q)
               : r.Query(
                     "SELECT d.id, m.message_id, m.sender, m.accepted_at, "
                     "coalesce(s.envelope, d.envelope), d.acked_at IS NOT NULL, x.content_hash, "
                     "d.erased_at IS NOT NULL, d.ack_deadline "
                     "FROM deliveries d JOIN messages m ON m.id = d.message "
                     "LEFT JOIN deliveries s ON s.id = d.same_as "
                     "JOIN disclosures x ON x.message_id = m.message_id AND x.delivery_id = d.id "
                     "AND x.outcome = 'disclosed' "
                     "WHERE d.recipient = $1 AND d.id >= $2 ORDER BY d.id LIMIT $3",
                     params, &q);
  });
  if (!s.ok()) return s;
  AddDeliveryRows(q, out);
  return core_.OpenDeliveries(out);
}

Status PgStore::ReadInbox(std::string_view party, size_t limit, std::vector<StoredDelivery>* out) {
  PgResult q;
  Status s = Read([&](PgConn& r) {
    return r.Query(
        "(SELECT d.id, m.message_id, m.sender, m.accepted_at, "
        "coalesce(s.envelope, d.envelope), false, x.content_hash, d.erased_at IS NOT NULL, "
        "d.ack_deadline FROM deliveries d JOIN messages m ON m.id = d.message "
        "LEFT JOIN deliveries s ON s.id = d.same_as "
        "JOIN disclosures x ON x.message_id = m.message_id AND x.delivery_id = d.id "
        "AND x.outcome = 'disclosed' "
        "WHERE d.recipient = $1 AND d.acked_at IS NULL ORDER BY d.id DESC LIMIT $2) "
        "UNION ALL (SELECT d.id, m.message_id, m.sender, m.accepted_at, "
        "coalesce(s.envelope, d.envelope), true, x.content_hash, d.erased_at IS NOT NULL, "
        "d.ack_deadline FROM deliveries d JOIN messages m ON m.id = d.message "
        "LEFT JOIN deliveries s ON s.id = d.same_as "
        "JOIN disclosures x ON x.message_id = m.message_id AND x.delivery_id = d.id "
        "AND x.outcome = 'disclosed' "
        "WHERE d.recipient = $1 AND d.acked_at IS NOT NULL ORDER BY d.id DESC LIMIT $2) "
        // A union's order is not its arms' order: said once more, over at most 2 x limit rows.
        "ORDER BY 6, 1 DESC",
        {PgParam::Text(party), PgParam::Int(Clamp(limit))}, &q);
  });
  if (!s.ok()) return s;
  AddDeliveryRows(q, out);
  return core_.OpenDeliveries(out);
}

void PgStore::AddDeliveryRows(const PgResult& q, std::vector<StoredDelivery>* out) {
  for (int i = 0; i < q.rows(); ++i) {
    out->push_back({static_cast<uint64_t>(q.Int(i, 0)), q.Text(i, 1), q.Text(i, 2), q.Int(i, 3),
                    q.Text(i, 4), q.Int(i, 5) != 0, false, q.Int(i, 7) != 0, q.Text(i, 6),
                    q.IsNull(i, 8) ? std::nullopt : std::optional<int64_t>(q.Int(i, 8))});
  }
}

Status PgStore::GetMessageState(std::string_view message_id, std::string_view party,
                                MessageState* out) {
  PgResult q;
  if (Status s = Read([&](PgConn& r) {
        return r.Query(
            "SELECT m.message_type, m.accepted_at, d.recipient, d.received_at, d.acked_at, "
            "d.ack_deadline, d.escalated_at, d.unreadable_at, d.erased_at FROM messages m "
            "JOIN disclosures x ON x.message_id = m.message_id AND x.outcome = 'disclosed' "
            "JOIN deliveries d ON d.id = x.delivery_id WHERE m.message_id = $1 "
            "AND ((m.sender = $2 AND x.on_behalf_of = '') OR x.on_behalf_of = $2) "
            "ORDER BY d.recipient",
            {PgParam::Text(message_id), PgParam::Text(party)}, &q);
      });
      !s.ok()) {
    return s;
  }
  if (q.rows() == 0) {
    return {Code::kNotFound, "message_id: no message with recipients this party may see"};
  }
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
    if (!q.IsNull(i, 7)) recipient.unreadable_at = q.Int(i, 7);
    if (!q.IsNull(i, 8)) recipient.erased_at = q.Int(i, 8);
    state.recipients.push_back(std::move(recipient));
  }
  *out = std::move(state);
  return Status::Ok();
}

Status PgStore::ListOverdue(int64_t now, size_t limit, std::vector<OverdueDelivery>* out) {
  PgResult q;
  if (Status s = Read([&](PgConn& r) {
        return r.Query(
            "SELECT d.id, d.recipient, d.ack_deadline, d.received_at, m.message_id, m.sender, "
            "m.message_type, m.handling, m.accepted_at, x.subject_hash, x.legal_basis, "
            "x.legal_citation, x.on_behalf_of FROM deliveries d JOIN messages m ON m.id = "
            "d.message "
            "JOIN disclosures x ON x.message_id = m.message_id AND x.delivery_id = d.id "
            "AND x.outcome = 'disclosed' "
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
    o.on_behalf_of = q.Text(i, 12);
    out->push_back(std::move(o));
  }
  return Status::Ok();
}

Status PgStore::NextDeadline(std::optional<int64_t>* out) {
  PgResult q;
  if (Status s = Read([&](PgConn& r) {
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
  return Read([&](PgConn& r) { return ReadFlagsIn(r, subject_hash, include_inactive, now, out); });
}

Status PgStore::QueryLog(const RecordFilter& f, uint64_t from_index, size_t limit,
                         std::vector<LogEntry>* out) {
  // Assembled from fixed fragments; every value is bound. Each filter has an index to use.
  std::vector<PgParam> params{PgParam::Int(Clamp(from_index))};
  std::string sql =
      "SELECT leaf_index, occurred_at, event, outcome, message_id, delivery_id, sender, "
      "sender_certificate_subject, sender_certificate_fingerprint, recipient, subject_hash, "
      "message_type, view, content_hash, legal_basis, legal_citation, handling, reason, instance, "
      "version, on_behalf_of, n.hash FROM disclosures "
      "LEFT JOIN merkle_nodes n ON n.level = 0 AND n.idx = disclosures.leaf_index "
      "WHERE leaf_index >= $1";
  auto bind = [&](PgParam p) {
    params.push_back(std::move(p));
    return "$" + std::to_string(params.size());
  };
  if (!f.subject_hash.empty()) sql += " AND subject_hash = " + bind(PgParam::Bytes(f.subject_hash));
  if (!f.message_id.empty()) sql += " AND message_id = " + bind(PgParam::Text(f.message_id));
  if (!f.party.empty()) {
    const std::string p = bind(PgParam::Text(f.party));
    sql += " AND (sender = " + p + " OR recipient = " + p + ")";
  }
  if (!f.legal_basis.empty()) sql += " AND legal_basis = " + bind(PgParam::Text(f.legal_basis));
  if (!f.message_type.empty()) sql += " AND message_type = " + bind(PgParam::Text(f.message_type));
  if (!f.outcome.empty()) sql += " AND outcome = " + bind(PgParam::Text(f.outcome));
  if (f.from) sql += " AND occurred_at >= " + bind(PgParam::Int(*f.from));
  if (f.until) sql += " AND occurred_at < " + bind(PgParam::Int(*f.until));
  sql += ScopeConditions(f.scope, "", bind);
  sql += " ORDER BY leaf_index LIMIT " + bind(PgParam::Int(Clamp(limit)));
  PgResult q;
  if (Status s = Read([&](PgConn& r) { return r.QueryOnce(sql, params, &q); }); !s.ok()) {
    return s;
  }
  for (int i = 0; i < q.rows(); ++i) {
    out->push_back({RecordFromColumns(PgRow(q, i)), q.Text(i, kRecordColumns)});
  }
  return Status::Ok();
}

Status PgStore::CountRecords(const RecordFilter& f, std::vector<RecordCount>* counts,
                             std::vector<MunicipalityAck>* acks) {
  // `head` ends in the period's conditions on $1 and $2; the scope's, on the records of
  // `table`, follow before `tail`. Every value is bound; the period has the index by time.
  auto query = [&](const std::string& head, const std::string& table, const std::string& tail,
                   PgResult* out) {
    std::vector<PgParam> params{
        PgParam::Int(f.from.value_or(0)),
        PgParam::Int(f.until.value_or(std::numeric_limits<int64_t>::max()))};
    auto bind = [&params](PgParam p) {
      params.push_back(std::move(p));
      return "$" + std::to_string(params.size());
    };
    const std::string sql = head + ScopeConditions(f.scope, table, bind) + tail;
    return Read([&](PgConn& r) { return r.QueryOnce(sql, params, out); });
  };
  PgResult q;
  if (Status s = query("SELECT occurred_at / 86400000000, event, outcome, legal_basis, "
                       "split_part(sender, '/', 1), count(*) FROM disclosures "
                       "WHERE occurred_at >= $1 AND occurred_at < $2",
                       "", " GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5", &q);
      !s.ok()) {
    return s;
  }
  for (int i = 0; i < q.rows(); ++i) {
    counts->push_back({q.Int(i, 0), q.Text(i, 1), q.Text(i, 2), q.Text(i, 3), q.Text(i, 4),
                       static_cast<uint64_t>(q.Int(i, 5))});
  }
  PgResult a;
  if (Status s =
          query("SELECT r.recipient, r.occurred_at, d.acked_at, d.ack_deadline FROM disclosures r "
                "JOIN deliveries d ON d.id = r.delivery_id WHERE r.event = 'disclose' AND "
                "r.recipient LIKE 'municipality/%' AND r.occurred_at >= $1 AND r.occurred_at < $2",
                "r.", " ORDER BY r.recipient", &a);
      !s.ok()) {
    return s;
  }
  for (int i = 0; i < a.rows(); ++i) {
    acks->push_back({a.Text(i, 0), {a.Int(i, 1), OptionalInt(a, i, 2), OptionalInt(a, i, 3)}});
  }
  return Status::Ok();
}

Status PgStore::ReadLog(uint64_t from_index, uint64_t to_index, size_t limit,
                        std::vector<LogEntry>* out) {
  PgResult q;
  if (Status s = Read([&](PgConn& r) {
        return r.Query(
            "SELECT d.leaf_index, d.occurred_at, d.event, d.outcome, d.message_id, "
            "d.delivery_id, d.sender, d.sender_certificate_subject, "
            "d.sender_certificate_fingerprint, d.recipient, d.subject_hash, d.message_type, "
            "d.view, d.content_hash, d.legal_basis, d.legal_citation, d.handling, d.reason, "
            "d.instance, d.version, d.on_behalf_of, n.hash FROM disclosures d "
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
    out->push_back({RecordFromColumns(PgRow(q, i)), q.Text(i, kRecordColumns)});
  }
  return Status::Ok();
}

Status PgStore::GetPolicyText(std::string_view sha256, PolicyText* out) {
  PgResult q;
  if (Status s = Read([&](PgConn& r) {
        return r.Query("SELECT name, body FROM policy_texts WHERE sha256 = $1",
                       {PgParam::Bytes(sha256)}, &q);
      });
      !s.ok()) {
    return s;
  }
  if (q.rows() == 0) return {Code::kNotFound, "sha256: no policy text with this hash"};
  *out = {q.Text(0, 0), q.Text(0, 1), std::string(sha256)};
  return Status::Ok();
}

Status PgStore::GetCheckpoint(uint64_t tree_size, StoredCheckpoint* out) {
  PgResult q;
  Status s = Read([&](PgConn& r) {
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
  return Read([&](PgConn& r) -> Status {
    uint64_t size = 0;
    if (Status s = StoredLogSize(r, &size); !s.ok()) return s;
    if (tree_size > size || index >= tree_size) {
      return {Code::kInvalidArgument, "index: " + std::to_string(index) +
                                          " is not in a log of size " + std::to_string(tree_size)};
    }
    return merkle::InclusionProof(LogNodeReader(PgStoredNodes(r)), index, tree_size, proof);
  });
}

Status PgStore::ConsistencyProof(uint64_t size1, uint64_t size2, std::vector<std::string>* proof) {
  return Read([&](PgConn& r) -> Status {
    uint64_t size = 0;
    if (Status s = StoredLogSize(r, &size); !s.ok()) return s;
    if (size2 > size || size1 > size2) {
      return {Code::kInvalidArgument,
              "sizes: need from_size <= to_size <= " + std::to_string(size)};
    }
    return merkle::ConsistencyProof(LogNodeReader(PgStoredNodes(r)), size1, size2, proof);
  });
}

}  // namespace infoflyt
