// composer.h - the message editor under the chat: Ctrl+Enter sends, a Send button that turns
// into Stop while a reply is written, and an "editing message N" banner for edit-and-resend.
#pragma once

#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QWidget>

namespace flashchat::ui {

class ComposerEdit : public QPlainTextEdit {
  Q_OBJECT
 public:
  using QPlainTextEdit::QPlainTextEdit;
 signals:
  void submit();
 protected:
  void keyPressEvent(QKeyEvent* e) override;
};

class Composer : public QWidget {
  Q_OBJECT
 public:
  explicit Composer(QWidget* parent = nullptr);
  QString text() const;
  void setText(const QString& text);
  void clear();
  void setBusy(bool busy);  // Send becomes Stop
  bool busy() const { return busy_; }
  // Edit-and-resend: index of the user message being edited, -1 = none.
  void setEditing(int index);
  int editing() const { return editing_; }
  ComposerEdit* editor() const { return edit_; }
  QPushButton* sendButton() const { return send_; }

 signals:
  void sendRequested(const QString& text);
  void stopRequested();
  void editCancelled();

 private:
  void trySend();
  ComposerEdit* edit_;
  QPushButton* send_;
  QLabel* banner_;
  QPushButton* cancel_edit_;
  bool busy_ = false;
  int editing_ = -1;
};

}  // namespace flashchat::ui
