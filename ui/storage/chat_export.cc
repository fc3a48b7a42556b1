#include "storage/chat_export.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QFile>
#include <QJsonDocument>
#include <QSaveFile>

#include "core/error.h"

namespace flashchat::ui {

namespace {

void write_atomically(const QString& path, const QByteArray& bytes) {
  QSaveFile f(path);
  if (!f.open(QIODevice::WriteOnly)) fail(path.toStdString(), f.errorString().toStdString());
  if (f.write(bytes) != bytes.size() || !f.commit()) {
    fail(path.toStdString(), "cannot write: " + f.errorString().toStdString());
  }
}

}  // namespace

QString conversation_to_markdown(const Conversation& c) {
  QString out = QStringLiteral("# %1\n\n").arg(c.title);
  out += QCoreApplication::translate("flashchat::ui::ChatExport",
                                     "_Exported from FlashChat on %1; started %2._\n\n")
             .arg(QDateTime::currentDateTime().toString(Qt::ISODate),
                  QDateTime::fromMSecsSinceEpoch(c.created_ms).toString(Qt::ISODate));
  if (!c.system_prompt.isEmpty())
    out += QCoreApplication::translate("flashchat::ui::ChatExport", "**System prompt:** %1\n\n")
               .arg(c.system_prompt);
  for (const ChatMessageEntry& m : c.messages) {
    const bool user = m.role == QLatin1String("user");
    out += user ? QCoreApplication::translate("flashchat::ui::ChatExport", "## You\n\n")
                : QCoreApplication::translate("flashchat::ui::ChatExport", "## Model\n\n");
    out += m.content.trimmed() + QStringLiteral("\n\n");
    if (!user && (!m.model.isEmpty() || !m.stop_reason.isEmpty())) {
      QStringList facts;
      if (!m.model.isEmpty()) facts << m.model;
      if (m.tokens > 0) {
        facts << QCoreApplication::translate("flashchat::ui::ChatExport", "%1 tokens in %2 ms")
                     .arg(m.tokens)
                     .arg(m.generate_ms, 0, 'f', 0);
      }
      if (!m.stop_reason.isEmpty())
        facts << QCoreApplication::translate("flashchat::ui::StopReason",
                                             m.stop_reason.toUtf8().constData());
      out += QStringLiteral("_%1_\n\n").arg(facts.join(QStringLiteral(" · ")));
    }
  }
  return out;
}

void conversation_export_markdown(const Conversation& c, const QString& path) {
  write_atomically(path, conversation_to_markdown(c).toUtf8());
}

void conversation_export_json(const Conversation& c, const QString& path) {
  write_atomically(path, QJsonDocument(conversation_to_json(c)).toJson(QJsonDocument::Indented));
}

Conversation conversation_import_json(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) fail(path.toStdString(), f.errorString().toStdString());
  QJsonParseError err;
  const QJsonDocument doc = QJsonDocument::fromJson(f.readAll(), &err);
  if (!doc.isObject()) fail(path.toStdString(), "not JSON: " + err.errorString().toStdString());
  try {
    return conversation_from_json(doc.object());
  } catch (const Error& e) {
    fail(path.toStdString(), e.what());
  }
}

}  // namespace flashchat::ui
