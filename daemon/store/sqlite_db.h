// Thin RAII wrappers over the SQLite C API: a connection with a prepared-statement cache, and a
// statement with typed bind/column helpers. Hand-written because SQLite's own API is C and the
// Debian C++ wrappers are not maintained; this is the minimum that gives RAII and no leaks.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace infoflyt {

class SqliteStatement {
 public:
  explicit SqliteStatement(sqlite3_stmt* stmt) : stmt_(stmt) {}

  SqliteStatement& Bind(int index, int64_t value);
  SqliteStatement& Bind(int index, std::string_view text);
  SqliteStatement& BindBlob(int index, std::string_view bytes);
  SqliteStatement& BindEmptyBlob(int index);  // A blob of no bytes, which is not NULL.
  SqliteStatement& BindNull(int index);
  // SQLITE_ROW: a row is ready; SQLITE_DONE: finished; anything else is an error.
  int Step();
  void Reset();
  bool Busy() const { return sqlite3_stmt_busy(stmt_.get()) != 0; }

  int64_t Int(int column) const;
  bool IsNull(int column) const;
  std::string Text(int column) const;  // Text or blob bytes.

 private:
  struct Finalizer {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
  };
  std::unique_ptr<sqlite3_stmt, Finalizer> stmt_;
};

class SqliteDb {
 public:
  // Opens (creating if needed) a connection used by one thread at a time.
  static Status Open(const std::string& path, std::unique_ptr<SqliteDb>* out);
  // Opens an existing database for reading only (creating nothing, not even its WAL index).
  static Status OpenReadOnly(const std::string& path, std::unique_ptr<SqliteDb>* out);

  Status Exec(const char* sql);
  // Runs one statement that returns no rows through the statement cache: for the transaction
  // and savepoint statements run for every op, where parsing each time would show.
  Status Run(const char* sql);
  // A cached prepared statement, reset and with bindings cleared. `sql` must be a literal.
  SqliteStatement& Prepare(const char* sql);
  // Resets every cached statement still part-way through its rows.
  void ResetStatements();
  // An uncached statement, for SQL assembled at run time from fixed fragments (values are always
  // bound, never spliced in).
  SqliteStatement PrepareOnce(const std::string& sql);
  int64_t LastInsertRowid() const { return sqlite3_last_insert_rowid(db_.get()); }
  // Rows changed by the last INSERT, UPDATE or DELETE.
  int Changes() const { return sqlite3_changes(db_.get()); }
  sqlite3* handle() const { return db_.get(); }
  std::string LastError() const { return sqlite3_errmsg(db_.get()); }
  // The connection's last failure as the store's error contract has it (store.h), saying what
  // failed: ALREADY_EXISTS for a unique key taken, INVALID_ARGUMENT for another constraint (a
  // trigger's refusal included), RESOURCE_EXHAUSTED for a full disk, INTERNAL for SQL SQLite
  // does not accept, UNAVAILABLE for anything else (I/O, a lock held too long).
  Status Failure(std::string_view what) const;

 private:
  static Status Open(const std::string& path, int flags, std::unique_ptr<SqliteDb>* out);

  struct Closer {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
  };
  std::unique_ptr<sqlite3, Closer> db_;
  std::map<const char*, SqliteStatement> statements_;
};

}  // namespace infoflyt
