#include "storage/db_open.h"

#include <sqlite3.h>

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QUrl>

#include "core/error.h"
#include "storage/schema.h"

namespace flashchat::ui {

DbProblem db_problem_classify(const QString& path, const std::string& what) {
  if (what.find("newer FlashChat") != std::string::npos) return DbProblem::Newer;
  const int code = sqlite_last_code();
  if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT) return DbProblem::Corrupt;
  if (code == SQLITE_READONLY || code == SQLITE_CANTOPEN || code == SQLITE_PERM ||
      code == SQLITE_IOERR || code == SQLITE_FULL || code == SQLITE_BUSY) {
    return DbProblem::Unwritable;
  }
  return QFileInfo::exists(path) ? DbProblem::Corrupt : DbProblem::Unwritable;
}

QString db_problem_text(DbProblem p, const QString& path, const QString& detail) {
  switch (p) {
    case DbProblem::Corrupt:
      return QCoreApplication::translate(
                 "flashchat::ui::DbOpen",
                 "The chat database %1 is damaged (%2). You can open it read-only to "
                 "read what is still readable, or keep it aside and start a fresh one.")
          .arg(path, detail);
    case DbProblem::Newer:
      return QCoreApplication::translate(
                 "flashchat::ui::DbOpen",
                 "The chat database %1 was written by a newer FlashChat (%2). You can "
                 "open it read-only, or keep it aside and start a fresh one.")
          .arg(path, detail);
    case DbProblem::Unwritable:
      return QCoreApplication::translate(
                 "flashchat::ui::DbOpen",
                 "The chat database %1 cannot be written (%2). You can open it "
                 "read-only (new chats will not be saved), or start a fresh one.")
          .arg(path, detail);
    case DbProblem::None:
      break;
  }
  return {};
}

namespace {

// Read-only, trying harder when the usual way fails: `immutable` needs neither the -shm file
// nor a writable directory (and does not see a -wal file's content, which the usual way does).
std::unique_ptr<ChatDb> open_read_only(const QString& path) {
  try {
    auto db = std::make_unique<ChatDb>(path, true);
    db->db().query_int("SELECT count(*) FROM conversations");
    return db;
  } catch (const Error&) {
    const QString uri = QStringLiteral("file:") +
                        QString::fromUtf8(QUrl::toPercentEncoding(QFileInfo(path).absoluteFilePath(), "/")) +
                        QStringLiteral("?immutable=1");
    return std::make_unique<ChatDb>(uri, true);
  }
}

QString keep_aside(const QString& path, DbProblem p) {
  const QString tag = p == DbProblem::Newer ? QStringLiteral("newer") : QStringLiteral("broken");
  const QString kept = path + QStringLiteral(".%1-%2").arg(
      tag, QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-hhmmss")));
  if (QFileInfo::exists(path) && !QFile::rename(path, kept)) return {};
  for (const char* suffix : {"-wal", "-shm"}) {
    if (QFileInfo::exists(path + suffix) && !QFile::rename(path + suffix, kept + suffix)) {
      QFile::rename(kept, path);  // all or nothing
      return {};
    }
  }
  return kept;
}

void open_pair(DbOpenResult& r, const QString& path) {
  r.writer = std::make_unique<ChatDb>(path, false);
  const std::string check = r.writer->db().query_text("PRAGMA quick_check");
  if (check != "ok") fail(path.toStdString(), "quick_check: " + check);
  r.reader = std::make_unique<ChatDb>(path, true);
  r.path = path;
}

}  // namespace

DbOpenResult chat_db_open(const QString& data_dir, const DbRecoveryChooser& choose) {
  DbOpenResult r;
  const QString path = chat_db_path(data_dir);
  QDir().mkpath(data_dir);
  try {
    open_pair(r, path);
    return r;
  } catch (const Error& e) {
    r.writer.reset();
    r.reader.reset();
    const std::string what = e.what();
    r.problem = what.find("quick_check") != std::string::npos ? DbProblem::Corrupt
                                                              : db_problem_classify(path, what);
    r.message = db_problem_text(r.problem, path, QString::fromStdString(e.what()).section(": ", 1));
  }
  switch (choose(r.problem, r.message)) {
    case DbRecovery::Quit:
      return r;
    case DbRecovery::OpenReadOnly:
      r.reader = open_read_only(path);
      r.path = path;
      return r;
    case DbRecovery::StartFresh:
      break;
  }
  r.kept_as = keep_aside(path, r.problem);
  if (!r.kept_as.isEmpty() || !QFileInfo::exists(path)) {
    try {
      open_pair(r, path);
      return r;
    } catch (const Error&) {
      r.writer.reset();
      r.reader.reset();
    }
  }
  // The data directory refuses a new file: a database for this session only.
  const QString temp = QDir(QDir::tempPath()).filePath(
      QStringLiteral("flashchat-%1.db").arg(QCoreApplication::applicationPid()));
  open_pair(r, temp);
  return r;
}

}  // namespace flashchat::ui
