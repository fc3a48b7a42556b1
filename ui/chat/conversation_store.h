// conversation_store.h - conversations on disk: one JSON file per conversation under
// <data dir>/conversations/, each written atomically (QSaveFile). The one place that knows the
// storage format (a later issue moves it to sqlite behind the same interface).
#pragma once

#include <QList>
#include <QString>
#include <QStringList>

#include "chat/conversation.h"

namespace flashchat::ui {

class ConversationStore {
 public:
  // `data_dir` is created when missing.
  explicit ConversationStore(const QString& data_dir);

  // Every readable conversation, newest change first. Files that cannot be read or parsed are
  // skipped and named in `problems` (when given) as "<file>: <reason>".
  QList<Conversation> load_all(QStringList* problems = nullptr) const;
  // Writes the conversation atomically. Throws flashchat::Error naming the file on failure.
  void save(const Conversation& c) const;
  // Deletes the conversation's file (no error when it does not exist).
  void remove(const QString& id) const;

  QString directory() const { return dir_; }
  QString file_path(const QString& id) const;

 private:
  QString dir_;
};

// The data directory: $FLASHCHAT_DATA_DIR when set, else QStandardPaths::AppDataLocation.
QString data_dir_default();

}  // namespace flashchat::ui
