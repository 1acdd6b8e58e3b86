// The PostgreSQL store: the same promises as SqliteStore, on a database several daemons can
// share. Each batch is one transaction (store_core.h); a commit is durable when Apply
// returns (as durable as the server's settings make it).
//
// Several daemons on one database: disclosure-log appends are serialised by a row lock on the
// one-row log_head table, taken at the start of every batch that may append. Under that lock
// each daemon reloads the log's right edge if another daemon appended since, assigns leaf
// indexes from the log head (stored in disclosures.leaf_index, because sequences have gaps), and
// moves the head in the same transaction. So record order is commit order and the tree is one.
// Escalation stays exactly-once: its conditional UPDATE takes the delivery's row lock.
//
// Live subscriptions across daemons: each batch that stores deliveries notifies every daemon
// listening on the database when it commits (pg_listener.h).
//
// A lost connection fails the batch with UNAVAILABLE (retryable); the next call reconnects.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "store/connection_pool.h"
#include "store/pg_conn.h"
#include "store/store.h"
#include "store/store_core.h"

namespace infoflyt {

struct PgStoreOptions {
  // A libpq connection string or URI. Never logged: it may hold a password (prefer a passfile).
  std::string conninfo;
  std::string instance;  // This daemon instance, recorded in every disclosure record.
  std::string version;   // The daemon's version, likewise.
  int readers = 4;       // Connections for reads, besides the one writer.
  // How long a read waits for a reader connection to come free before it is UNAVAILABLE.
  std::chrono::milliseconds reader_wait{10'000};
  std::string password{};  // If not empty, overrides libpq's PGPASSWORD and passfile.
  // Open on a server with fsync or full_page_writes off (test clusters); never synchronous_commit
  // off, which would send receipts before the commit is on disk.
  bool allow_fsync_off = false;
};

class PgStore final : public Store {
 public:
  // Connects and brings the schema to the current version (one daemon at a time: migrations
  // hold an advisory lock). Refuses a database whose schema is newer than this binary knows.
  // A role that may not change the schema (deploy/postgres/roles.sql) needs it current, and is
  // FAILED_PRECONDITION, saying who may migrate, if it is not. Run by the tables' owner, it also
  // grants the role infoflyt_daemon, if it exists, exactly what a serving daemon needs.
  // FAILED_PRECONDITION, naming the setting, if commits would not be durable (see
  // PgStoreOptions::allow_fsync_off).
  static Status Open(const PgStoreOptions& options, std::unique_ptr<PgStore>* out);
  ~PgStore() override;
  PgStore(const PgStore&) = delete;
  PgStore& operator=(const PgStore&) = delete;

  // Records `mine` if the database has no shared keys yet (the first daemon to start wins),
  // and returns those it records: `mine` unless another daemon's came first.
  Status RecordSharedKeys(const SharedKeys& mine, int64_t now, SharedKeys* recorded) override;
  void SetDataKeys(std::shared_ptr<const DataKeys> keys) override {
    core_.SetDataKeys(std::move(keys));
  }
  Status RecordDataKeys(const std::vector<DataKeys::Check>& mine, int64_t now,
                        std::vector<DataKeys::Check>* recorded) override;

  Status Apply(std::span<WriteOp* const> ops, int64_t now) override;
  // synchronous_commit, fsync and full_page_writes, as the writer's session shows them (read
  // again, and Apply refused if they fall short, after the writer reconnects).
  const std::vector<DurabilitySetting>& durability() const override { return durability_; }
  Status ReadDeliveries(std::string_view party, uint64_t from_id, bool unacked_only, size_t limit,
                        std::vector<StoredDelivery>* out) override;
  Status ReadInbox(std::string_view party, size_t limit, std::vector<StoredDelivery>* out) override;
  Status GetMessageState(std::string_view message_id, std::string_view party,
                         MessageState* out) override;
  Status ListFlags(std::string_view subject_hash, bool include_inactive, int64_t now,
                   std::vector<FlagInfo>* out) override;
  Status ListOverdue(int64_t now, size_t limit, std::vector<OverdueDelivery>* out) override;
  Status NextDeadline(std::optional<int64_t>* out) override;
  Status CountRecords(const RecordFilter& filter, std::vector<RecordCount>* counts,
                      std::vector<MunicipalityAck>* acks) override;
  Status QueryLog(const RecordFilter& filter, uint64_t from_index, size_t limit,
                  std::vector<LogEntry>* out) override;
  Status ReadLog(uint64_t from_index, uint64_t to_index, size_t limit,
                 std::vector<LogEntry>* out) override;
  Status GetCheckpoint(uint64_t tree_size, StoredCheckpoint* out) override;
  Status GetPolicyText(std::string_view sha256, PolicyText* out) override;
  // Proofs may cover records other daemons appended: sizes are checked against the stored head.
  Status InclusionProof(uint64_t index, uint64_t tree_size,
                        std::vector<std::string>* proof) override;
  Status ConsistencyProof(uint64_t size1, uint64_t size2, std::vector<std::string>* proof) override;
  // As of this daemon's last commit or log reload; others may have appended since.
  uint64_t LogSize() const override { return core_.LogSize(); }

 private:
  // Appends the rows of a delivery query (ReadDeliveries' columns) to `out`.
  static void AddDeliveryRows(const PgResult& q, std::vector<StoredDelivery>* out);
  explicit PgStore(PgStoreOptions options);

  // Inside the batch's transaction: a NOTIFY naming the recipients of the deliveries it stored
  // and the earliest deadline (see pg_listener.h), sent by the server on commit only.
  Status NotifyCommit(std::span<WriteOp* const> ops);
  // Loads the log's right edge as committed.
  Status OpenLog();
  // Reads synchronous_commit, fsync and full_page_writes from the writer's session.
  Status ReadBackDurability();
  // The committed log size, read through `conn`.
  static Status StoredLogSize(PgConn& conn, uint64_t* size);
  // The writer's rows, for the core.
  class Rows;
  // Runs `read(conn)` on a borrowed reader connection, and once more on a new connection if the
  // old one turned out to be lost: reads are idempotent, and a pooled connection may have been
  // idle through a server restart.
  template <typename F>
  Status Read(F&& read) {
    ConnectionPool<PgConn>::Lease conn;
    if (Status s = readers_.Borrow(&conn); !s.ok()) return s;
    if (Status s = conn->EnsureConnected(); !s.ok()) return s;
    Status s = read(*conn);
    if (s.ok() || conn->connected()) return s;
    if (Status r = conn->EnsureConnected(); !r.ok()) return r;
    return read(*conn);
  }

  PgStoreOptions options_;
  std::unique_ptr<PgConn> writer_;
  StoreCore core_;  // Writes through rows_, on the writer only.
  std::unique_ptr<Rows> rows_;
  std::vector<DurabilitySetting> durability_;  // Read back at open and after each reconnect.
  uint64_t durability_session_ = 0;            // The writer's session they were read in.
  ConnectionPool<PgConn> readers_{options_.reader_wait};
};

}  // namespace infoflyt
