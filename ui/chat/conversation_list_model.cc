#include "chat/conversation_list_model.h"

#include <QDateTime>
#include <QLocale>

#include "core/error.h"

namespace flashchat::ui {

ConversationListModel::ConversationListModel(ChatDb* reader, StoreWriter* writer, QObject* parent)
    : QAbstractListModel(parent), reader_(reader), writer_(writer) {
  connect(writer_, &StoreWriter::writeFailed, this, &ConversationListModel::saveFailed);
}

void ConversationListModel::flush() { writer_->flush(); }

void ConversationListModel::load() {
  beginResetModel();
  items_ = reader_->conversations_load();
  endResetModel();
}

int ConversationListModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(items_.size());
}

QVariant ConversationListModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= items_.size()) return {};
  const Conversation& c = items_.at(index.row());
  switch (role) {
    case Qt::DisplayRole:
    case Qt::EditRole:
      return c.title;
    case Qt::ToolTipRole:
      return tr("%1 — %n messages, last change %2", nullptr, int(c.messages.size()))
          .arg(c.title, QLocale().toString(QDateTime::fromMSecsSinceEpoch(c.updated_ms),
                                           QLocale::ShortFormat));
    case IdRole:
      return c.id;
    case UpdatedRole:
      return c.updated_ms;
    default:
      return {};
  }
}

bool ConversationListModel::setData(const QModelIndex& index, const QVariant& value, int role) {
  if (!index.isValid() || role != Qt::EditRole) return false;
  const QString title = value.toString().trimmed();
  if (title.isEmpty()) return false;
  rename(items_.at(index.row()).id, title);
  return true;
}

Qt::ItemFlags ConversationListModel::flags(const QModelIndex& index) const {
  return QAbstractListModel::flags(index) | Qt::ItemIsEditable;
}

int ConversationListModel::row_of(const QString& id) const {
  for (int i = 0; i < items_.size(); ++i) {
    if (items_[i].id == id) return i;
  }
  return -1;
}

const Conversation* ConversationListModel::find(const QString& id) const {
  const int row = row_of(id);
  return row < 0 ? nullptr : &items_[row];
}

QString ConversationListModel::create() {
  Conversation c = Conversation::make_new();
  insert(c);
  return c.id;
}

void ConversationListModel::insert(const Conversation& c) {
  if (const int row = row_of(c.id); row >= 0) {
    update(c);
    return;
  }
  beginInsertRows({}, 0, 0);
  items_.prepend(c);
  endInsertRows();
  writer_->saveConversation(c);
}

void ConversationListModel::rename(const QString& id, const QString& title) {
  const int row = row_of(id);
  if (row < 0 || title.trimmed().isEmpty()) return;
  items_[row].title = title.trimmed();
  items_[row].updated_ms = QDateTime::currentMSecsSinceEpoch();
  emit dataChanged(index(row), index(row));
  writer_->saveConversation(items_[row]);
}

void ConversationListModel::remove(const QString& id) {
  const int row = row_of(id);
  if (row < 0) return;
  beginRemoveRows({}, row, row);
  removed_.append(items_.takeAt(row));
  endRemoveRows();
  writer_->setDeleted(id, true);
}

QString ConversationListModel::undoRemove() {
  if (removed_.isEmpty()) return {};
  const Conversation c = removed_.takeLast();
  int row = 0;  // back where its last change puts it (newest first)
  while (row < items_.size() && items_[row].updated_ms > c.updated_ms) ++row;
  beginInsertRows({}, row, row);
  items_.insert(row, c);
  endInsertRows();
  writer_->setDeleted(c.id, false);
  return c.id;
}

bool ConversationListModel::update(const Conversation& c, bool persist_now) {
  const int row = row_of(c.id);
  if (row < 0) return false;
  items_[row] = c;
  items_[row].updated_ms = QDateTime::currentMSecsSinceEpoch();
  emit dataChanged(index(row), index(row));
  if (persist_now) writer_->saveConversation(items_[row]);
  return true;
}

void ConversationListModel::persist(const QString& id) {
  const int row = row_of(id);
  if (row >= 0) writer_->saveConversation(items_[row]);
}

QStringList ConversationListModel::search(const QString& query) {
  if (query.trimmed().isEmpty()) {
    QStringList all;
    for (const Conversation& c : items_) all << c.id;
    return all;
  }
  return reader_->search(query);
}

}  // namespace flashchat::ui
