// conversation_list_model.h - the conversation list (left pane) as a Qt item model over
// ConversationStore: new, rename (editable titles), delete, update; every change is saved.
#pragma once

#include <QAbstractListModel>
#include <QList>
#include <QThread>

#include "chat/conversation.h"
#include "chat/conversation_store.h"

namespace flashchat::ui {

class ConversationListModel : public QAbstractListModel {
  Q_OBJECT
 public:
  enum Roles { IdRole = Qt::UserRole + 1, UpdatedRole };

  // Does not own `store`. Writes go to `store` on a background thread (in order), so a slow
  // disk (QSaveFile syncs) never stalls the GUI.
  explicit ConversationListModel(ConversationStore* store, QObject* parent = nullptr);
  ~ConversationListModel() override;
  // Waits until every queued write and delete is on disk.
  void flush();

  // Reads every conversation from the store (replaces the list).
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
  void remove(const QString& id);
  // Replaces the conversation with the same id (updated time set now) and, when `persist`,
  // saves it. Returns false when no conversation has that id.
  bool update(const Conversation& c, bool persist = true);
  // Saves the conversation as it is now (e.g. the once-a-second save while streaming).
  void persist(const QString& id);

 signals:
  // Write failures (disk full, permissions) as user-facing text.
  void saveFailed(const QString& message);

 private:
  void save(const Conversation& c);
  ConversationStore* store_;
  QList<Conversation> items_;
  QThread* writer_thread_;
  QObject* writer_;  // lives on writer_thread_; queued lambdas run there in order
};

}  // namespace flashchat::ui
