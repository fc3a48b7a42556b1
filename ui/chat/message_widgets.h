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
  // Assistant replies: where each generated token's text ends in content() (UTF-16 offsets,
  // ascending; from GenerationSummary::token_ends) and the run that recorded their telemetry.
  // With them, clicking a word emits tokenClicked.
  void setTokens(const QString& run_uid, const QList<int>& token_ends);
  QString runUid() const { return run_uid_; }
  // The generated token (0-based) whose text holds content() offset `offset`, or -1.
  int tokenAtOffset(int offset) const;
  // The offset in content() of `pos` in `block`'s rendered text (one of this message's text
  // blocks), matching the word under it in the Markdown source; -1 when not found.
  int contentOffset(const TextBlock* block, int pos) const;
  QString content() const { return content_; }
  QString role() const { return role_; }
  int index() const { return index_; }

 signals:
  void copyRequested(int index);
  void editRequested(int index);
  void regenerateRequested();
  // A word of a reply was clicked: its generated token (0-based) and run.
  void tokenClicked(int index, const QString& run_uid, int token, const QString& word,
                    const QPoint& global_pos);

 protected:
  bool eventFilter(QObject* watched, QEvent* e) override;

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
  QString run_uid_;
  QList<int> token_ends_;
  QList<TextBlock*> blocks_;  // the text blocks, in order (clicks map through them)
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
