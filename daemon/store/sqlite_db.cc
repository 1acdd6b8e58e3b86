#include "store/sqlite_db.h"

#include <stdexcept>

namespace infoflyt {

SqliteStatement& SqliteStatement::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_.get(), index, value);
  return *this;
}

SqliteStatement& SqliteStatement::Bind(int index, std::string_view text) {
  sqlite3_bind_text(stmt_.get(), index, text.data(), static_cast<int>(text.size()),
                    SQLITE_TRANSIENT);
  return *this;
}

SqliteStatement& SqliteStatement::BindBlob(int index, std::string_view bytes) {
  sqlite3_bind_blob(stmt_.get(), index, bytes.data(), static_cast<int>(bytes.size()),
                    SQLITE_TRANSIENT);
  return *this;
}

SqliteStatement& SqliteStatement::BindEmptyBlob(int index) {
  sqlite3_bind_zeroblob(stmt_.get(), index, 0);
  return *this;
}

SqliteStatement& SqliteStatement::BindNull(int index) {
  sqlite3_bind_null(stmt_.get(), index);
  return *this;
}

int SqliteStatement::Step() { return sqlite3_step(stmt_.get()); }

void SqliteStatement::Reset() {
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
}

int64_t SqliteStatement::Int(int column) const { return sqlite3_column_int64(stmt_.get(), column); }

bool SqliteStatement::IsNull(int column) const {
  return sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL;
}

std::string SqliteStatement::Text(int column) const {
  const void* data = sqlite3_column_blob(stmt_.get(), column);
  const int size = sqlite3_column_bytes(stmt_.get(), column);
  return data == nullptr ? std::string() : std::string(static_cast<const char*>(data), size);
}

Status SqliteDb::Open(const std::string& path, std::unique_ptr<SqliteDb>* out) {
  return Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, out);
}

Status SqliteDb::OpenReadOnly(const std::string& path, std::unique_ptr<SqliteDb>* out) {
  return Open(path, SQLITE_OPEN_READONLY, out);
}

Status SqliteDb::Open(const std::string& path, int flags, std::unique_ptr<SqliteDb>* out) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  auto db = std::make_unique<SqliteDb>();
  db->db_.reset(raw);
  if (rc != SQLITE_OK) {
    return {Code::kUnavailable, "cannot open database " + path + ": " +
                                    (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc))};
  }
  sqlite3_busy_timeout(raw, 10000);
  *out = std::move(db);
  return Status::Ok();
}

Status SqliteDb::Exec(const char* sql) {
  if (sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
    return Failure("running a statement");
  }
  return Status::Ok();
}

Status SqliteDb::Failure(std::string_view what) const {
  const int rc = sqlite3_extended_errcode(db_.get());
  Code code = Code::kUnavailable;
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      code = rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY
                 ? Code::kAlreadyExists
                 : Code::kInvalidArgument;
      break;
    case SQLITE_FULL:
      code = Code::kResourceExhausted;
      break;
    case SQLITE_ERROR:
    case SQLITE_MISUSE:
    case SQLITE_RANGE:
      code = Code::kInternal;
      break;
    default:
      break;
  }
  return {code, "sqlite: " + std::string(what) + ": " + LastError()};
}

void SqliteDb::ResetStatements() {
  for (auto& entry : statements_) {
    if (entry.second.Busy()) entry.second.Reset();
  }
}

Status SqliteDb::Run(const char* sql) {
  SqliteStatement& statement = Prepare(sql);
  const int rc = statement.Step();
  statement.Reset();
  if (rc != SQLITE_DONE) return Failure(sql);
  return Status::Ok();
}

SqliteStatement SqliteDb::PrepareOnce(const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_.get(), sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    throw std::logic_error(std::string("sqlite prepare failed: ") + sqlite3_errmsg(db_.get()) +
                           " in: " + sql);
  }
  return SqliteStatement(stmt);
}

SqliteStatement& SqliteDb::Prepare(const char* sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) !=
        SQLITE_OK) {
      // A statement that does not compile is a programming error, not a runtime condition.
      throw std::logic_error(std::string("sqlite prepare failed: ") + sqlite3_errmsg(db_.get()) +
                             " in: " + sql);
    }
    it = statements_.emplace(sql, SqliteStatement(stmt)).first;
  }
  it->second.Reset();
  return it->second;
}

}  // namespace infoflyt
