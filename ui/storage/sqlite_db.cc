#include "storage/sqlite_db.h"

#include <sqlite3.h>

#include "core/error.h"

namespace flashchat::ui {

namespace {
thread_local int g_last_code = 0;
}

int sqlite_last_code() { return g_last_code; }

SqliteDb::SqliteDb(const std::string& path, Mode mode, int busy_ms) : path_(path), mode_(mode) {
  int flags = SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_URI;
  switch (mode) {
    case Mode::ReadOnly: flags |= SQLITE_OPEN_READONLY; break;
    case Mode::ReadWrite: flags |= SQLITE_OPEN_READWRITE; break;
    case Mode::ReadWriteCreate: flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE; break;
  }
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    const std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    g_last_code = rc;
    fail(path, "cannot open: " + msg);
  }
  sqlite3_extended_result_codes(db_, 0);
  sqlite3_busy_timeout(db_, busy_ms);
  exec("PRAGMA foreign_keys = ON");
}

SqliteDb::~SqliteDb() { sqlite3_close_v2(db_); }

void SqliteDb::fail_sqlite(int rc, const std::string& what) const {
  g_last_code = rc & 0xff;
  fail(path_, what + ": " + (db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc)));
}

void SqliteDb::exec(std::string_view sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    const std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    g_last_code = rc & 0xff;
    fail(path_, msg);
  }
}

SqliteStmt SqliteDb::prepare(std::string_view sql) {
  sqlite3_stmt* s = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &s, nullptr);
  if (rc != SQLITE_OK) fail_sqlite(rc, "cannot prepare '" + std::string(sql.substr(0, 60)) + "'");
  return SqliteStmt(*this, s);
}

int64_t SqliteDb::query_int(std::string_view sql) {
  SqliteStmt s = prepare(sql);
  return s.step() ? s.col_int(0) : 0;
}

std::string SqliteDb::query_text(std::string_view sql) {
  SqliteStmt s = prepare(sql);
  return s.step() ? s.col_text(0) : std::string();
}

int SqliteDb::user_version() { return static_cast<int>(query_int("PRAGMA user_version")); }
void SqliteDb::set_user_version(int v) { exec("PRAGMA user_version = " + std::to_string(v)); }
int64_t SqliteDb::last_insert_id() const { return sqlite3_last_insert_rowid(db_); }
int SqliteDb::changes() const { return sqlite3_changes(db_); }
bool SqliteDb::in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

SqliteStmt::~SqliteStmt() { sqlite3_finalize(s_); }

SqliteStmt& SqliteStmt::bind_int64(int i, int64_t v) {
  if (const int rc = sqlite3_bind_int64(s_, i, v); rc != SQLITE_OK) db_->fail_sqlite(rc, "bind");
  return *this;
}
SqliteStmt& SqliteStmt::bind(int i, double v) {
  if (const int rc = sqlite3_bind_double(s_, i, v); rc != SQLITE_OK) db_->fail_sqlite(rc, "bind");
  return *this;
}
SqliteStmt& SqliteStmt::bind(int i, std::string_view t) {
  const int rc = sqlite3_bind_text(s_, i, t.data(), static_cast<int>(t.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) db_->fail_sqlite(rc, "bind");
  return *this;
}
SqliteStmt& SqliteStmt::bind_blob(int i, const void* data, size_t bytes) {
  const int rc = sqlite3_bind_blob(s_, i, data, static_cast<int>(bytes), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) db_->fail_sqlite(rc, "bind");
  return *this;
}
SqliteStmt& SqliteStmt::bind_null(int i) {
  if (const int rc = sqlite3_bind_null(s_, i); rc != SQLITE_OK) db_->fail_sqlite(rc, "bind");
  return *this;
}

bool SqliteStmt::step() {
  const int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  sqlite3_reset(s_);
  db_->fail_sqlite(rc, "step");
}

void SqliteStmt::run() {
  while (step()) {
  }
  reset();
}

void SqliteStmt::reset() {
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
}

int64_t SqliteStmt::col_int(int i) const { return sqlite3_column_int64(s_, i); }
double SqliteStmt::col_double(int i) const { return sqlite3_column_double(s_, i); }
std::string SqliteStmt::col_text(int i) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, i));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s_, i))) : std::string();
}
std::vector<uint8_t> SqliteStmt::col_blob(int i) const {
  const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(s_, i));
  return p ? std::vector<uint8_t>(p, p + sqlite3_column_bytes(s_, i)) : std::vector<uint8_t>();
}
bool SqliteStmt::col_null(int i) const { return sqlite3_column_type(s_, i) == SQLITE_NULL; }

SqliteTxn::SqliteTxn(SqliteDb& db) : db_(db), outer_(!db.in_transaction()) {
  if (outer_) db_.exec("BEGIN IMMEDIATE");
}
SqliteTxn::~SqliteTxn() {
  if (outer_ && !done_) sqlite3_exec(db_.raw(), "ROLLBACK", nullptr, nullptr, nullptr);
}
void SqliteTxn::commit() {
  if (outer_) db_.exec("COMMIT");
  done_ = true;
}

}  // namespace flashchat::ui
