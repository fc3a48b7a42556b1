// run_list_model.h - the recorded runs (one per reply) as a table model over the database:
// when, chat, model, mode, k, budget, tokens and the per-token summaries (ms, bytes read, FFN
// neurons loaded). Read through the GUI thread's read-only ChatDb connection.
#pragma once

#include <QAbstractTableModel>
#include <QList>

#include "storage/chat_db.h"

namespace flashchat::ui {

class RunListModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { Started, Chat, Model, Mode, Window, Budget, Tokens, MsPerToken, BytesPerToken,
                FfnPerToken, kColumnCount };
  enum Roles { UidRole = Qt::UserRole + 1 };

  explicit RunListModel(ChatDb* reader, QObject* parent = nullptr);
  // Reads the runs again (newest first). Throws Error.
  void reload();

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation o, int role) const override;

  const RunInfo& at(int row) const { return runs_.at(row); }
  int row_of(const QString& uid) const;

 private:
  ChatDb* reader_;
  QList<RunInfo> runs_;
};

// "flash · k 4 · budget 7.9 MB · 40 tokens · 2.31 ms/token · 0.41 MB read/token · 1203 FFN
// neurons loaded/token"
QString run_summary_text(const RunInfo& r);

}  // namespace flashchat::ui
