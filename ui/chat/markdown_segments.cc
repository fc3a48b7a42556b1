#include "chat/markdown_segments.h"

#include <QStringList>

namespace flashchat::ui {

QList<MarkdownSegment> markdown_split(const QString& markdown) {
  QList<MarkdownSegment> out;
  MarkdownSegment cur;
  QString fence;
  const auto flush = [&] {
    if (cur.code || !cur.text.trimmed().isEmpty()) {
      if (cur.text.endsWith('\n')) cur.text.chop(1);
      out.append(cur);
    }
    cur = MarkdownSegment();
  };
  const QStringList lines = markdown.split('\n');
  for (const QString& line : lines) {
    const QString t = line.trimmed();
    if (!cur.code && (t.startsWith(QLatin1String("```")) || t.startsWith(QLatin1String("~~~")))) {
      flush();
      fence = t.left(3);
      cur.code = true;
      cur.language = t.mid(3).trimmed();
      continue;
    }
    if (cur.code && t.startsWith(fence) && t.mid(3).trimmed().isEmpty()) {
      flush();
      continue;
    }
    cur.text += line + '\n';
  }
  flush();
  return out;
}

}  // namespace flashchat::ui
