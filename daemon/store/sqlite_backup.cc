#include "store/sqlite_backup.h"

#include <sqlite3.h>

#include <cstdio>
#include <filesystem>

#include "base/files.h"
#include "store/sqlite_db.h"

namespace infoflyt {
namespace {

Status Copy(SqliteDb& source, SqliteDb& copy) {
  sqlite3_backup* backup = sqlite3_backup_init(copy.handle(), "main", source.handle(), "main");
  if (backup == nullptr) return copy.Failure("starting the backup");
  // All pages in one step: one read transaction, so one snapshot. A writer on the WAL goes on.
  int rc;
  while ((rc = sqlite3_backup_step(backup, -1)) == SQLITE_BUSY || rc == SQLITE_LOCKED) {
    sqlite3_sleep(50);
  }
  const int finished = sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE || finished != SQLITE_OK) return copy.Failure("copying the database");
  return Status::Ok();
}

Status Describe(SqliteDb& copy, SqliteBackupResult* out) {
  auto& q = copy.Prepare(
      "SELECT (SELECT count(*) FROM disclosures), "
      "(SELECT coalesce(max(tree_size), 0) FROM checkpoints), (SELECT * FROM pragma_page_count)");
  if (q.Step() != SQLITE_ROW) return copy.Failure("reading the copy");
  out->log_size = static_cast<uint64_t>(q.Int(0));
  out->checkpoint_size = static_cast<uint64_t>(q.Int(1));
  out->pages = q.Int(2);
  q.Reset();
  return Status::Ok();
}

// The snapshot copied into the (empty) file `to`, closed when this returns.
Status CopyTo(const std::string& from, const std::string& to, SqliteBackupResult* out) {
  std::unique_ptr<SqliteDb> source;
  std::unique_ptr<SqliteDb> copy;
  if (Status s = SqliteDb::OpenReadOnly(from, &source); !s.ok()) return s;
  if (Status s = SqliteDb::Open(to, &copy); !s.ok()) return s;
  if (Status s = copy->Exec("PRAGMA synchronous = FULL"); !s.ok()) return s;
  if (Status s = Copy(*source, *copy); !s.ok()) return s;
  return Describe(*copy, out);
}

}  // namespace

Status BackUpSqliteStore(const std::string& from, const std::string& to, SqliteBackupResult* out) {
  bool exists = false;
  if (Status s = FileExists(from, &exists); !s.ok()) return s;
  if (!exists) return {Code::kFailedPrecondition, "store.sqlite_path " + from + " does not exist"};
  if (Status s = FileExists(to, &exists); !s.ok()) return s;
  if (exists) return {Code::kFailedPrecondition, to + " exists: a backup never replaces a file"};
  const std::string partial = to + ".partial";
  // Owner-only from the first byte; SQLite takes an empty file as an empty database.
  if (Status s = CreateSecretFile(partial, ""); !s.ok()) {
    return {s.code(),
            s.message() + " (a backup that stopped half-way leaves " + partial + ": remove it)"};
  }
  Status s = CopyTo(from, partial, out);
  if (s.ok()) s = SyncFile(partial, false);
  if (s.ok() && std::rename(partial.c_str(), to.c_str()) != 0) {
    s = {Code::kUnavailable, "cannot rename " + partial + " to " + to};
  }
  if (!s.ok()) {
    std::remove(partial.c_str());
    return s;
  }
  const std::string dir = std::filesystem::path(to).parent_path().string();
  return SyncFile(dir.empty() ? "." : dir, true);
}

}  // namespace infoflyt
