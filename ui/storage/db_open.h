// db_open.h - opening the user's database with a way on when it cannot be used as it is: a
// corrupt file, one written by a newer FlashChat, or one on a disk that refuses writes. The
// caller (the main window, or a test) is asked what to do; nothing is ever deleted: a fresh
// start first renames the old file (and its -wal/-shm) aside.
#pragma once

#include <QString>
#include <functional>
#include <memory>

#include "storage/chat_db.h"

namespace flashchat::ui {

enum class DbProblem { None, Corrupt, Newer, Unwritable };
enum class DbRecovery { OpenReadOnly, StartFresh, Quit };

struct DbOpenResult {
  std::unique_ptr<ChatDb> writer;  // read-write connection for the StoreWriter (null: read-only)
  std::unique_ptr<ChatDb> reader;  // read-only connection for the GUI thread (null: Quit)
  DbProblem problem = DbProblem::None;
  QString message;   // the problem in plain words (empty when none)
  QString kept_as;   // StartFresh: where the old file went
  QString path;      // the database in use
};

using DbRecoveryChooser = std::function<DbRecovery(DbProblem, const QString& message)>;

// Opens <data_dir>/flashchat.db read-write (creating and migrating it), checks it
// (PRAGMA quick_check), and opens a second, read-only connection. On a problem asks `choose`:
//   OpenReadOnly - the file as it is, read-only (no writes this session);
//   StartFresh   - the old file renamed to flashchat.db.<problem>-<time>, a new one created;
//                  when even that is impossible, a temporary database for this session;
//   Quit         - nothing opened.
// Throws Error only when the chosen way on fails too.
DbOpenResult chat_db_open(const QString& data_dir, const DbRecoveryChooser& choose);

// The problem an Error from ChatDb's constructor stands for (from the sqlite code it carried).
DbProblem db_problem_classify(const QString& path, const std::string& what);
QString db_problem_text(DbProblem p, const QString& path, const QString& detail);

}  // namespace flashchat::ui
