// chat_view.h - the conversation as a scrolling column of blocks (messages, welcome and error
// cards). Streaming appends to the last block only; the rest is never re-rendered per token.
#pragma once

#include <QHash>

#include <QPointer>
#include <QScrollArea>
#include <QVBoxLayout>

#include "chat/conversation.h"
#include "chat/message_widgets.h"

namespace flashchat::ui {

class ChatView : public QScrollArea {
  Q_OBJECT
 public:
  explicit ChatView(QWidget* parent = nullptr);

  // Shows the conversation's messages (cards other than the welcome card are dropped).
  void setConversation(const Conversation& c);
  // Appends one finished message (e.g. the user's turn just sent).
  void appendMessage(const ChatMessageEntry& m);
  // Starts a streamed assistant message at the end.
  void beginAssistant();
  void appendText(const QString& text);
  // Renders the streamed message as Markdown once.
  void finishAssistant(const QString& content, const QString& note);
  NoticeCard* addNotice(NoticeCard::Kind kind, const QString& title, const QString& text,
                        const QString& detail, const QList<QPair<QString, QString>>& actions);
  // The welcome card sits above the messages until dismissed (nullptr: none).
  void setWelcome(NoticeCard* card);
  void setBusy(bool busy);
  void scrollToBottom();

  // The token boundaries of the reply recorded as `run_uid` (the reply being finished, or one
  // shown later in this session): clicking its words emits tokenClicked.
  void setTokenEnds(const QString& run_uid, const QList<int>& token_ends);
  int messageCount() const { return static_cast<int>(messages_.size()); }
  MessageWidget* message(int i) const { return messages_.value(i); }
  MessageWidget* streaming() const { return streaming_; }
  QList<NoticeCard*> notices() const;

 protected:
  void resizeEvent(QResizeEvent* e) override;

 signals:
  void copyMessage(int index);
  void editMessage(int index);
  void regenerate();
  void noticeAction(const QString& id);
  void tokenClicked(int index, const QString& run_uid, int token, const QString& word,
                    const QPoint& global_pos);

 private:
  MessageWidget* addMessage(const QString& role, int index);
  void insertBlock(QWidget* w);
  void updateRegenerate();
  QWidget* column_;
  QVBoxLayout* layout_;
  QList<MessageWidget*> messages_;
  QList<QPointer<NoticeCard>> notices_;
  QPointer<NoticeCard> welcome_;
  MessageWidget* streaming_ = nullptr;
  QHash<QString, QList<int>> token_ends_;  // per run uid, this session's replies
  bool busy_ = false;
  bool stick_to_bottom_ = true;
};

}  // namespace flashchat::ui
