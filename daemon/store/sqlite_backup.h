// An online backup of the embedded SQLite store, while the daemon goes on serving.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"

namespace infoflyt {

struct SqliteBackupResult {
  int64_t pages = 0;
  uint64_t log_size = 0;         // Disclosure records in the copy.
  uint64_t checkpoint_size = 0;  // The tree size of the latest checkpoint in the copy.
};

// Copies the database at `from` to `to`, a new file (FAILED_PRECONDITION if it exists), with
// SQLite's online backup API: one consistent snapshot of everything committed, the WAL's
// transactions included, while the daemon writes on (WAL readers do not block it). The copy is
// owner-only and durable (written under a temporary name, fsynced, then renamed) when this
// returns. It holds the bodies sealed: restoring it needs the key files kept beside it.
Status BackUpSqliteStore(const std::string& from, const std::string& to, SqliteBackupResult* out);

}  // namespace infoflyt
