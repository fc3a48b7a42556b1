// conversation_list_model.h - the conversation list (left pane) as a Qt item model over the
// database: new, rename (editable titles), delete with undo, update, full-text search. Reads go
// through a read-only ChatDb connection on the GUI thread; every change is queued to the
// StoreWriter (its own thread), so a slow disk never stalls the GUI.
#pragma once

#include <QAbstractListModel>
#include <QList>

#include "chat/conversation.h"
#include "storage/chat_db.h"
#include "storage/store_writer.h"

namespace flashchat::ui {

class ConversationListModel : public QAbstractListModel {
  Q_OBJECT
 public:
  enum Roles { IdRole = Qt::UserRole + 1, UpdatedRole };

  // Does not own `reader` or `writer`.
  ConversationListModel(ChatDb* reader, StoreWriter* writer, QObject* parent = nullptr);
  // Waits until every queued write is committed.
  void flush();

  // Reads every conversation (not deleted) from the database (replaces the list). Throws Error.
  void load();

  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  bool setData(const QModelIndex& index, const QVariant& value, int role) override;
  Qt::ItemFlags flags(const QModelIndex& index) const override;

  int row_of(const QString& id) const;  // -1 when absent
  const Conversation* find(const QString& id) const;
  const Conversation& at(int row) const { return items_.at(row); }

  // Inserts a new empty conversation at the top; returns its id.
  QString create();
  void rename(const QString& id, const QString& title);
  // Hides the conversation and marks it deleted in the database; undoRemove() brings back the
  // most recent one (any number of times, newest first). Deleted conversations are purged for
  // good at the next start.
  void remove(const QString& id);
  bool canUndoRemove() const { return !removed_.isEmpty(); }
  QString undoRemove();  // the restored id ("" when nothing to undo)
  // Inserts (or replaces) a whole conversation, e.g. an imported one; saved at once.
  void insert(const Conversation& c);
  // Replaces the conversation with the same id (updated time set now) and, when `persist`,
  // saves it. Returns false when no conversation has that id.
  bool update(const Conversation& c, bool persist = true);
  // Saves the conversation as it is now (e.g. the periodic save while streaming).
  void persist(const QString& id);

  // Ids matching `query` (full-text, all words, prefix match), newest first; all ids for an
  // empty query. Committed data only: call flush() first to include queued writes.
  QStringList search(const QString& query);

 signals:
  // Write failures (disk full, read-only) as user-facing text.
  void saveFailed(const QString& message);

 private:
  ChatDb* reader_;
  StoreWriter* writer_;
  QList<Conversation> items_;
  QList<Conversation> removed_;  // undo stack
};

}  // namespace flashchat::ui
