// markdown_segments.h - splits a message's Markdown at fenced code blocks, so prose is rendered
// with QTextDocument::setMarkdown and each code block gets its own monospace box with a copy
// button.
#pragma once

#include <QList>
#include <QString>

namespace flashchat::ui {

struct MarkdownSegment {
  bool code = false;
  QString language;  // code only: the info string after the opening fence
  QString text;      // prose: Markdown; code: the code without fences
  bool operator==(const MarkdownSegment&) const = default;
};

// Fences are lines starting with ``` (or ~~~); an unclosed fence runs to the end. Empty prose
// between blocks is dropped.
QList<MarkdownSegment> markdown_split(const QString& markdown);

}  // namespace flashchat::ui
