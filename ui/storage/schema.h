// schema.h - the database schema as a chain of forward migrations (PRAGMA user_version = the
// number of migrations applied). A new database runs them all; an older one runs the rest, each
// in its own transaction. docs/DATABASE.md describes the tables.
#pragma once

#include "storage/sqlite_db.h"

namespace flashchat::ui {

// The version this build writes.
constexpr int kSchemaVersion = 3;

// Brings `db` from its user_version to `target` (<= kSchemaVersion). Throws Error when the
// database is newer than this build (user_version > kSchemaVersion) or a step fails (that step
// is rolled back; the earlier ones stay).
void schema_migrate(SqliteDb& db, int target = kSchemaVersion);

}  // namespace flashchat::ui
