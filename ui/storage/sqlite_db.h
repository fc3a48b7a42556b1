// sqlite_db.h - a small RAII wrapper over the sqlite3 C API: one connection (SqliteDb), prepared
// statements (SqliteStmt) and a transaction guard (SqliteTxn). Every failure throws
// flashchat::Error naming the database file and sqlite's own message; sqlite_code() keeps the
// result code of the last failure so callers can tell "corrupt" from "read-only".
#pragma once

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace flashchat::ui {

class SqliteStmt;

class SqliteDb {
 public:
  enum class Mode { ReadWrite, ReadWriteCreate, ReadOnly };
  // Opens `path` (":memory:" for a private in-memory database) with foreign keys on and a busy
  // timeout of `busy_ms`. Throws Error when the file cannot be opened in `mode`.
  SqliteDb(const std::string& path, Mode mode, int busy_ms = 5000);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // Runs one or more statements without results. Throws Error.
  void exec(std::string_view sql);
  // Throws Error when the SQL does not compile.
  SqliteStmt prepare(std::string_view sql);
  // The first column of the first row as integer (0 when there is no row). Throws Error.
  int64_t query_int(std::string_view sql);
  std::string query_text(std::string_view sql);

  int user_version();
  void set_user_version(int v);
  int64_t last_insert_id() const;
  int changes() const;
  bool in_transaction() const;
  bool read_only() const { return mode_ == Mode::ReadOnly; }
  const std::string& path() const { return path_; }
  sqlite3* raw() const { return db_; }

  // Throws Error("<path>: <what>: <sqlite message>") and remembers `rc` as last_code().
  [[noreturn]] void fail_sqlite(int rc, const std::string& what) const;

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
  Mode mode_;
};

class SqliteStmt {
 public:
  SqliteStmt(SqliteDb& db, sqlite3_stmt* s) : db_(&db), s_(s) {}
  SqliteStmt(SqliteStmt&& o) noexcept : db_(o.db_), s_(o.s_) { o.s_ = nullptr; }
  SqliteStmt(const SqliteStmt&) = delete;
  ~SqliteStmt();

  // Binding is 1-based, like sqlite. Returns *this for chaining.
  template <std::integral T>
  SqliteStmt& bind(int i, T v) { return bind_int64(i, static_cast<int64_t>(v)); }
  SqliteStmt& bind_int64(int i, int64_t v);
  SqliteStmt& bind(int i, double v);
  SqliteStmt& bind(int i, std::string_view text);
  SqliteStmt& bind_blob(int i, const void* data, size_t bytes);
  SqliteStmt& bind_null(int i);
  // Steps once: true while there is a row. Throws Error on failure (also SQLITE_BUSY after the
  // busy timeout).
  bool step();
  // Steps to completion (statements without results) and resets for reuse.
  void run();
  void reset();

  int64_t col_int(int i) const;
  double col_double(int i) const;
  std::string col_text(int i) const;
  std::vector<uint8_t> col_blob(int i) const;
  bool col_null(int i) const;

 private:
  SqliteDb* db_;
  sqlite3_stmt* s_;
};

// BEGIN IMMEDIATE on construction; ROLLBACK in the destructor unless commit() ran. Inside a
// transaction already open on the connection it does nothing (the outer one decides).
class SqliteTxn {
 public:
  explicit SqliteTxn(SqliteDb& db);
  ~SqliteTxn();
  void commit();  // Throws Error.
 private:
  SqliteDb& db_;
  bool done_ = false;
  bool outer_ = true;
};

// The sqlite result code of the last failure thrown on this thread (0 before any).
int sqlite_last_code();

}  // namespace flashchat::ui
