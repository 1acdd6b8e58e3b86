// The SQLite store's schema: its tables, indexes and triggers, version by version
// (PRAGMA user_version). Version N is the same logical schema as PostgreSQL's version N from
// version 5 on (pg_schema.h).
#pragma once

#include <cstdint>

#include "base/status.h"
#include "store/sqlite_db.h"

namespace infoflyt {

// Brings `db`'s schema to the version this binary makes, one transaction per version. Refuses
// (FAILED_PRECONDITION) a database whose schema is newer than this binary knows.
Status MigrateSqliteSchema(SqliteDb& db);

}  // namespace infoflyt
