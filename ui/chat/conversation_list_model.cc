#include "chat/conversation_list_model.h"

#include <QDateTime>

#include "core/error.h"

namespace flashchat::ui {

ConversationListModel::ConversationListModel(ConversationStore* store, QObject* parent)
    : QAbstractListModel(parent),
      store_(store),
      writer_thread_(new QThread(this)),
      writer_(new QObject) {
  writer_thread_->setObjectName(QStringLiteral("conversation writer"));
  writer_->moveToThread(writer_thread_);
  connect(writer_thread_, &QThread::finished, writer_, &QObject::deleteLater);
  writer_thread_->start();
}

ConversationListModel::~ConversationListModel() {
  flush();
  writer_thread_->quit();
  writer_thread_->wait();
}

void ConversationListModel::flush() {
  QMetaObject::invokeMethod(writer_, [] {}, Qt::BlockingQueuedConnection);  // FIFO: all before
}

void ConversationListModel::load() {
  beginResetModel();
  items_ = store_->load_all();
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
      return QStringLiteral("%1 — %2 messages, last change %3")
          .arg(c.title)
          .arg(c.messages.size())
          .arg(QDateTime::fromMSecsSinceEpoch(c.updated_ms).toString(QStringLiteral("yyyy-MM-dd hh:mm")));
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
  beginInsertRows({}, 0, 0);
  items_.prepend(c);
  endInsertRows();
  save(c);
  return c.id;
}

void ConversationListModel::rename(const QString& id, const QString& title) {
  const int row = row_of(id);
  if (row < 0 || title.trimmed().isEmpty()) return;
  items_[row].title = title.trimmed();
  items_[row].updated_ms = QDateTime::currentMSecsSinceEpoch();
  emit dataChanged(index(row), index(row));
  save(items_[row]);
}

void ConversationListModel::remove(const QString& id) {
  const int row = row_of(id);
  if (row < 0) return;
  beginRemoveRows({}, row, row);
  items_.removeAt(row);
  endRemoveRows();
  ConversationStore* store = store_;
  QMetaObject::invokeMethod(writer_, [store, id] { store->remove(id); }, Qt::QueuedConnection);
}

bool ConversationListModel::update(const Conversation& c, bool persist_now) {
  const int row = row_of(c.id);
  if (row < 0) return false;
  items_[row] = c;
  items_[row].updated_ms = QDateTime::currentMSecsSinceEpoch();
  emit dataChanged(index(row), index(row));
  if (persist_now) save(items_[row]);
  return true;
}

void ConversationListModel::persist(const QString& id) {
  const int row = row_of(id);
  if (row >= 0) save(items_[row]);
}

void ConversationListModel::save(const Conversation& c) {
  ConversationStore* store = store_;
  QMetaObject::invokeMethod(
      writer_,
      [this, store, c] {
        try {
          store->save(c);
        } catch (const Error& e) {
          const QString msg = QStringLiteral("Could not save the conversation: %1")
                                  .arg(QString::fromStdString(e.what()));
          QMetaObject::invokeMethod(this, [this, msg] { emit saveFailed(msg); }, Qt::QueuedConnection);
        }
      },
      Qt::QueuedConnection);
}

}  // namespace flashchat::ui
