#include "history/run_list_model.h"

#include <QDateTime>
#include <QLocale>

#include "bridge/engine_worker.h"

namespace flashchat::ui {

RunListModel::RunListModel(ChatDb* reader, QObject* parent)
    : QAbstractTableModel(parent), reader_(reader) {}

void RunListModel::reload() {
  beginResetModel();
  runs_ = reader_->runs_list();
  endResetModel();
}

int RunListModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(runs_.size());
}

int RunListModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumnCount;
}

int RunListModel::row_of(const QString& uid) const {
  for (int i = 0; i < runs_.size(); ++i) {
    if (runs_[i].uid == uid) return i;
  }
  return -1;
}

QVariant RunListModel::headerData(int section, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case Started:
      return tr("Started");
    case Chat:
      return tr("Chat");
    case Model:
      return tr("Model");
    case Mode:
      return tr("Mode");
    case Window:
      return tr("k");
    case Budget:
      return tr("Budget");
    case Tokens:
      return tr("Tokens");
    case MsPerToken:
      return tr("ms/token");
    case BytesPerToken:
      return tr("MB read/token");
    case FfnPerToken:
      return tr("FFN loaded/token");
    default: return {};
  }
}

QVariant RunListModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= runs_.size()) return {};
  const RunInfo& r = runs_.at(index.row());
  if (role == UidRole) return r.uid;
  if (role == Qt::ToolTipRole) return run_summary_text(r);
  if (role == Qt::TextAlignmentRole) {
    return index.column() >= Window ? QVariant(Qt::AlignRight | Qt::AlignVCenter) : QVariant();
  }
  if (role != Qt::DisplayRole) return {};
  switch (index.column()) {
    case Started:
      return QDateTime::fromMSecsSinceEpoch(r.started_ms).toString(QStringLiteral("MM-dd hh:mm:ss"));
    case Chat:
      return r.conversation_title.isEmpty() ? tr("(deleted chat)") : r.conversation_title;
    case Model: return r.model_name;
    case Mode: return r.mode;
    case Window: return r.window;
    case Budget: return bytes_text(r.budget_bytes);
    case Tokens: return r.tokens;
    case MsPerToken:
      return QLocale().toString(r.ms_per_token, 'f', 2);
    case BytesPerToken:
      return QLocale().toString(r.bytes_per_token / 1e6, 'f', 3);
    case FfnPerToken:
      return QLocale().toString(r.ffn_loaded_per_token, 'f', 0);
    default: return {};
  }
}

QString run_summary_text(const RunInfo& r) {
  QString s = RunListModel::tr(
                  "%1 · k %2 · budget %3 · %4 tokens · %L5 ms/token · %L6 MB read/token · "
                  "%L7 FFN neurons loaded/token")
                  .arg(r.mode)
                  .arg(r.window)
                  .arg(bytes_text(r.budget_bytes))
                  .arg(r.tokens)
                  .arg(r.ms_per_token, 0, 'f', 2)
                  .arg(r.bytes_per_token / 1e6, 0, 'f', 3)
                  .arg(r.ffn_loaded_per_token, 0, 'f', 0);
  if (r.finished_ms == 0) s += RunListModel::tr(" · not finished");
  return s;
}

}  // namespace flashchat::ui
