#include "models/model_list.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>

#include "core/error.h"
#include "core/resource_paths.h"

namespace flashchat::ui {

ModelList::ModelList(const QString& data_dir) : data_dir_(data_dir) {
  QString def;
  try {
    def = QString::fromStdString(default_model_path());
  } catch (const Error&) {
  }
  if (!def.isEmpty()) {
    entries_.append(
        {QCoreApplication::translate("flashchat::ui::ModelList", "FlashChat default (5.3M)"),
         QDir::cleanPath(def), true});
  }
  QFile f(QDir(data_dir_).filePath(QStringLiteral("models.json")));
  if (!f.open(QIODevice::ReadOnly)) return;
  for (const QJsonValue& v : QJsonDocument::fromJson(f.readAll()).array()) {
    const QJsonObject o = v.toObject();
    const QString path = o.value("path").toString();
    if (path.isEmpty() || indexOf(path) >= 0) continue;
    entries_.append({o.value("name").toString(QFileInfo(path).fileName()), path, false});
  }
}

int ModelList::indexOf(const QString& path) const {
  const QString clean = QDir::cleanPath(path);
  for (int i = 0; i < entries_.size(); ++i) {
    if (entries_[i].path == clean) return i;
  }
  return -1;
}

int ModelList::add(const QString& name, const QString& path) {
  int i = indexOf(path);
  if (i < 0) {
    entries_.append({name, QDir::cleanPath(path), false});
    i = static_cast<int>(entries_.size()) - 1;
  } else if (!entries_[i].builtin) {
    entries_[i].name = name;
  }
  save();
  return i;
}

void ModelList::remove(int index) {
  if (index < 0 || index >= entries_.size() || entries_[index].builtin) return;
  entries_.removeAt(index);
  save();
}

QString ModelList::convertedPath(const QString& source) const {
  QString stem = QFileInfo(source).completeBaseName();
  if (stem.isEmpty()) stem = QFileInfo(QDir::cleanPath(source)).fileName();
  QString base = QDir(data_dir_).filePath(QStringLiteral("models/") + stem + QStringLiteral("-flash"));
  QString out = base;
  for (int n = 2; QFileInfo::exists(out); ++n) out = base + QStringLiteral("-%1").arg(n);
  return out;
}

void ModelList::save() const {
  QJsonArray a;
  for (const ModelEntry& e : entries_) {
    if (!e.builtin) a.append(QJsonObject{{"name", e.name}, {"path", e.path}});
  }
  QDir().mkpath(data_dir_);
  QSaveFile f(QDir(data_dir_).filePath(QStringLiteral("models.json")));
  if (f.open(QIODevice::WriteOnly)) {
    f.write(QJsonDocument(a).toJson());
    f.commit();
  }
}

}  // namespace flashchat::ui
