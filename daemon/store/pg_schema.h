// The PostgreSQL store's schema: its tables, indexes and triggers, version by version (the
// schema_version table), and what the daemon role may do with them. Version N is the same
// logical schema as SQLite's version N from version 5 on (sqlite_schema.h).
#pragma once

#include <cstdint>

#include "base/status.h"
#include "store/pg_conn.h"

namespace infoflyt {

// Brings the database's schema to the version this binary makes, one transaction per version,
// daemons opening it at once taking turns (an advisory lock); then grants the role infoflyt_daemon,
// if it exists and this session owns the tables, exactly what a serving daemon needs. Refuses
// (FAILED_PRECONDITION) a schema newer than this binary knows, and says who may migrate if
// this role may not.
Status MigratePgSchema(PgConn& db);

}  // namespace infoflyt
