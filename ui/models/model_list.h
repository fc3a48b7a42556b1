// model_list.h - the flash models the user has opened or converted, persisted as models.json in
// the data directory; the shipped default model is always first.
#pragma once

#include <QList>
#include <QString>

namespace flashchat::ui {

struct ModelEntry {
  QString name;
  QString path;  // flash model directory (or GGUF / HF folder run dense)
  bool builtin = false;
  bool operator==(const ModelEntry&) const = default;
};

class ModelList {
 public:
  // Reads <data_dir>/models.json (missing or unreadable: just the default model).
  explicit ModelList(const QString& data_dir);
  const QList<ModelEntry>& entries() const { return entries_; }
  // Adds (or renames) the entry for `path` and saves; returns its index.
  int add(const QString& name, const QString& path);
  void remove(int index);  // the built-in entry stays
  int indexOf(const QString& path) const;
  // Where converted models go by default: <data_dir>/models/<stem>.
  QString convertedPath(const QString& source) const;

 private:
  void save() const;
  QString data_dir_;
  QList<ModelEntry> entries_;
};

}  // namespace flashchat::ui
