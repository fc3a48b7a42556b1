// message_widgets.h - the blocks the chat view is made of: a message (role, Markdown body with
// code boxes, actions) whose streamed text is appended in place, and a notice card (welcome,
// errors) with action buttons.
#pragma once

#include <QFrame>
#include <QLabel>
#include <QList>
#include <QPair>
#include <QPushButton>
#include <QTextBrowser>
#include <QVBoxLayout>

namespace flashchat::ui {

// Read-only rich text that is exactly as tall as its content (no inner scroll bar).
class TextBlock : public QTextBrowser {
  Q_OBJECT
 public:
  explicit TextBlock(QWidget* parent = nullptr);
  QSize sizeHint() const override;
  QSize minimumSizeHint() const override;

 protected:
  void resizeEvent(QResizeEvent* e) override;

 private:
  void fitHeight();
};

class MessageWidget : public QFrame {
  Q_OBJECT
 public:
  // role: "user" or "assistant".
  MessageWidget(const QString& role, int index, QWidget* parent = nullptr);

  // Renders `markdown` (prose via QTextDocument::setMarkdown, code blocks boxed).
  void setContent(const QString& markdown);
  // Streaming: appends plain text at the end without re-rendering what is there.
  void appendStreamed(const QString& text);
  // Ends streaming: renders the whole message once as Markdown.
  void finishStreaming(const QString& markdown, const QString& note);
  void setNote(const QString& note);  // e.g. "stopped", "reached the token limit"
  void setActionsEnabled(bool enabled);
  void setRegenerateVisible(bool visible);
  QString content() const { return content_; }
  QString role() const { return role_; }
  int index() const { return index_; }

 signals:
  void copyRequested(int index);
  void editRequested(int index);
  void regenerateRequested();

 private:
  void clearBody();
  QString role_;
  int index_;
  QString content_;
  QVBoxLayout* body_;
  QLabel* note_;
  QPushButton* edit_ = nullptr;
  QPushButton* regenerate_ = nullptr;
  QList<QPushButton*> actions_;
  TextBlock* stream_ = nullptr;
};

// A calm card: title, text, optional detail, action buttons (id, label), and a close button.
class NoticeCard : public QFrame {
  Q_OBJECT
 public:
  enum class Kind { Info, Error };
  NoticeCard(Kind kind, const QString& title, const QString& text, const QString& detail,
             const QList<QPair<QString, QString>>& actions, QWidget* parent = nullptr);
  QString title() const { return title_; }

 signals:
  void actionTriggered(const QString& id);

 private:
  QString title_;
};

}  // namespace flashchat::ui
