#include "chat/conversation_store.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QSaveFile>
#include <QStandardPaths>
#include <algorithm>

#include "core/error.h"

namespace flashchat::ui {

QString data_dir_default() {
  const QString env = qEnvironmentVariable("FLASHCHAT_DATA_DIR");
  if (!env.isEmpty()) return env;
  return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
}

ConversationStore::ConversationStore(const QString& data_dir)
    : dir_(QDir(data_dir).filePath(QStringLiteral("conversations"))) {
  QDir().mkpath(dir_);
}

QString ConversationStore::file_path(const QString& id) const {
  return QDir(dir_).filePath(id + QStringLiteral(".json"));
}

QList<Conversation> ConversationStore::load_all(QStringList* problems) const {
  QList<Conversation> out;
  const QStringList files = QDir(dir_).entryList({QStringLiteral("*.json")}, QDir::Files);
  for (const QString& name : files) {
    QFile f(QDir(dir_).filePath(name));
    if (!f.open(QIODevice::ReadOnly)) {
      if (problems) *problems << name + ": " + f.errorString();
      continue;
    }
    QJsonParseError err;
    const QJsonDocument doc = QJsonDocument::fromJson(f.readAll(), &err);
    if (!doc.isObject()) {
      if (problems) *problems << name + ": " + err.errorString();
      continue;
    }
    try {
      out.append(conversation_from_json(doc.object()));
    } catch (const Error& e) {
      if (problems) *problems << name + ": " + QString::fromStdString(e.what());
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const Conversation& a, const Conversation& b) {
    return a.updated_ms > b.updated_ms;
  });
  return out;
}

void ConversationStore::save(const Conversation& c) const {
  const QString path = file_path(c.id);
  QSaveFile f(path);
  if (!f.open(QIODevice::WriteOnly)) fail(path.toStdString(), f.errorString().toStdString());
  const QByteArray bytes = QJsonDocument(conversation_to_json(c)).toJson(QJsonDocument::Indented);
  if (f.write(bytes) != bytes.size() || !f.commit()) {
    fail(path.toStdString(), "cannot write: " + f.errorString().toStdString());
  }
}

void ConversationStore::remove(const QString& id) const { QFile::remove(file_path(id)); }

}  // namespace flashchat::ui
