// Thin RAII wrappers over libpq, as sqlite_db.h is for SQLite: a connection with a cache of
// prepared statements, bound parameters and a result with typed column helpers. Values are
// always sent as bound parameters (blobs as binary bytea), never spliced into SQL. Results come
// back in binary format, so text and bytea columns are returned byte for byte.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace infoflyt {

// OK if `conninfo` is a valid libpq connection string or URI without a password in it (a
// configuration file is no place for one) that names only local hosts (Unix sockets, loopback)
// unless it says sslmode=verify-full; INVALID_ARGUMENT saying why not otherwise.
Status CheckConnInfo(const std::string& conninfo);

// One bound parameter of a query.
class PgParam {
 public:
  static PgParam Int(int64_t value);                 // bigint.
  static PgParam Int(std::optional<int64_t> value);  // bigint, or NULL if unset.
  static PgParam Text(std::string_view value);       // Type inferred by the server.
  static PgParam Bytes(std::string_view value);      // bytea, sent as binary.

 private:
  friend class PgConn;
  PgParam(Oid type, int format, std::optional<std::string> value)
      : type_(type), format_(format), value_(std::move(value)) {}

  Oid type_;
  int format_;  // 0: text, 1: binary.
  std::optional<std::string> value_;
};

// The rows of a query, in binary format.
class PgResult {
 public:
  PgResult() = default;

  int rows() const { return result_ ? PQntuples(result_.get()) : 0; }
  bool IsNull(int row, int column) const { return PQgetisnull(result_.get(), row, column) != 0; }
  // An integer or boolean column (0 if NULL).
  int64_t Int(int row, int column) const;
  // A text or bytea column's bytes ("" if NULL).
  std::string Text(int row, int column) const;
  // Rows changed by an INSERT, UPDATE or DELETE.
  int64_t Affected() const;

 private:
  friend class PgConn;
  struct Clear {
    void operator()(PGresult* r) const { PQclear(r); }
  };
  std::unique_ptr<PGresult, Clear> result_;
};

// One session, used by one thread at a time. A failed statement's Status says what to do about
// it: ALREADY_EXISTS (a unique key taken) or INVALID_ARGUMENT (other values the database
// refused) blame the values; INTERNAL blames our SQL; UNAVAILABLE (connection lost, server
// shutting down, deadlock, serialisation failure, lock timeout) is worth retrying.
//
// Error messages (and the server warnings this logs) never carry a value bound to a statement,
// which may be personal data: they hold the statement's start, the SQLSTATE, the names of the
// table, column and constraint, and the server's primary message only where that cannot quote
// a value (never its DETAIL or CONTEXT).
class PgConn {
 public:
  // Connects with a libpq connection string or URI, in UTF-8, and runs `setup` (session
  // settings, also run again after a reconnect) if given. Unless `conninfo` says otherwise, a
  // connection attempt gives up after 10 s and TCP keepalives notice a dead peer within about
  // a minute, so that a session to a vanished server fails rather than hangs. `password`, if not
  // empty, overrides libpq's own sources (PGPASSWORD, the passfile). UNAVAILABLE if it cannot
  // connect; FAILED_PRECONDITION if the database cannot store UTF-8. Messages never repeat
  // `conninfo` or `password`.
  static Status Connect(const std::string& conninfo, const std::string& password, const char* setup,
                        std::unique_ptr<PgConn>* out);

  // One or more statements with no parameters (transaction control, DDL).
  Status Exec(const char* sql);
  // A cached prepared statement. `sql` must be a literal: the cache is keyed by its address.
  Status Query(const char* sql, std::initializer_list<PgParam> params, PgResult* out = nullptr);
  // An unprepared statement, for SQL assembled at run time from fixed fragments.
  Status QueryOnce(const std::string& sql, std::span<const PgParam> params,
                   PgResult* out = nullptr);

  // Statements whose results are not needed at once, sent without waiting (libpq's pipeline
  // mode), so that a transaction's writes share round trips: a prepared statement as Query
  // would run it, or a command without parameters (SAVEPOINT ...). What became of them is
  // learned at the next Sync, which every other call here does first.
  Status Send(const char* sql, std::initializer_list<PgParam> params);
  Status SendCommand(const char* sql);
  // As Send, for rows whose keys the caller assigned itself (the log's): a refusal of their
  // values means the caller's own state is wrong, so Sync says INTERNAL rather than blaming
  // the values.
  Status SendOwnRow(const char* sql, std::initializer_list<PgParam> params);
  // Waits for every statement sent; the first failure among them, as Query would say it (those
  // after a failure are skipped by the server). A Query while statements are outstanding is
  // sent behind them and answered in the same round trip.
  Status Sync();
  // A statement whose result is wanted, sent without waiting; SyncResults returns the results
  // of such statements in the order sent.
  Status SendForResult(const char* sql, std::initializer_list<PgParam> params);
  Status SyncResults(std::vector<PgResult>* results);

  // Commits the open transaction. INTERNAL, rolling back, if a statement in it failed (the
  // server would turn COMMIT into ROLLBACK without an error).
  Status Commit();
  // Rolls back the open transaction, if any; a no-op on a broken connection.
  void Rollback();
  // Reconnects if the connection was lost (prepared statements are then prepared again).
  Status EnsureConnected();
  // False once the connection is known to be lost.
  bool connected() const { return PQstatus(conn_.get()) == CONNECTION_OK; }
  // How many sessions this connection has had: 1, plus one per reconnect. Session settings
  // (and what was read of them) hold only for the session they were made in.
  uint64_t sessions() const { return sessions_; }

  // For a session that LISTENs: the socket to wait on for notifications, and the payloads of
  // those that have arrived on `channel`, read without blocking. UNAVAILABLE once the
  // connection is lost.
  int socket() const { return PQsocket(conn_.get()); }
  Status TakeNotifications(std::string_view channel, std::vector<std::string>* payloads);

 private:
  struct Finish {
    void operator()(PGconn* c) const { PQfinish(c); }
  };
  PgConn() = default;
  // Turns a finished command into a Status; `what` names it in errors.
  Status Check(PGresult* raw, std::string_view what, PgResult* out);
  Status Run(const char* name, const std::string& sql, std::span<const PgParam> params,
             PgResult* out);

  std::unique_ptr<PGconn, Finish> conn_;
  const char* setup_ = nullptr;
  uint64_t sessions_ = 1;
  // Parameters as libpq takes them.
  struct Bound {
    explicit Bound(std::span<const PgParam> params);
    std::vector<Oid> types;
    std::vector<const char*> values;
    std::vector<int> lengths;
    std::vector<int> formats;
  };
  enum class Kind { kWrite, kOwnRow, kKeep };  // kKeep: its result is wanted (SyncResults).
  // Sends a statement without waiting: prepared (and prepared first, also without waiting) if
  // it has parameters, else unnamed; Sync waits for its result.
  Status SendStatement(const char* sql, std::span<const PgParam> params, Kind kind = Kind::kWrite);

  std::map<const char*, std::string> prepared_;  // SQL literal -> statement name.
  // Names only ever go up: a statement forgotten after a failed pipeline may still exist on
  // the server (PREPARE is not transactional), so its name must not be given again.
  uint64_t next_name_ = 0;
  // Statements sent and not yet synced, oldest first, for Sync to name a failure.
  struct Sent {
    const char* sql;
    Kind kind;
  };
  std::vector<Sent> sent_;
  std::vector<const char*> prepared_in_pipeline_;  // Forgotten if the pipeline fails.
};

}  // namespace infoflyt
