#include "chat/chat_view.h"

#include <QScrollBar>
#include <algorithm>

namespace flashchat::ui {

ChatView::ChatView(QWidget* parent) : QScrollArea(parent) {
  setObjectName(QStringLiteral("chatView"));
  setWidgetResizable(true);
  setFrameShape(QFrame::NoFrame);
  setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  column_ = new QWidget(this);
  column_->setObjectName(QStringLiteral("chatColumn"));
  layout_ = new QVBoxLayout(column_);
  layout_->setContentsMargins(16, 12, 16, 12);
  layout_->setSpacing(10);
  layout_->addStretch(1);
  setWidget(column_);
  QScrollBar* bar = verticalScrollBar();
  connect(bar, &QScrollBar::valueChanged, this,
          [this, bar](int v) { stick_to_bottom_ = v >= bar->maximum() - 4; });
  connect(bar, &QScrollBar::rangeChanged, this, [this, bar](int, int max) {
    if (stick_to_bottom_) bar->setValue(max);
  });
}

void ChatView::insertBlock(QWidget* w) { layout_->insertWidget(layout_->count() - 1, w); }

MessageWidget* ChatView::addMessage(const QString& role, int index) {
  auto* m = new MessageWidget(role, index, column_);
  connect(m, &MessageWidget::copyRequested, this, &ChatView::copyMessage);
  connect(m, &MessageWidget::editRequested, this, &ChatView::editMessage);
  connect(m, &MessageWidget::regenerateRequested, this, &ChatView::regenerate);
  connect(m, &MessageWidget::tokenClicked, this, &ChatView::tokenClicked);
  insertBlock(m);
  messages_.append(m);
  return m;
}

void ChatView::setConversation(const Conversation& c) {
  for (MessageWidget* m : messages_) delete m;
  messages_.clear();
  for (const QPointer<NoticeCard>& n : notices_) delete n.data();
  notices_.clear();
  streaming_ = nullptr;
  for (int i = 0; i < c.messages.size(); ++i) {
    MessageWidget* m = addMessage(c.messages[i].role, i);
    m->setContent(c.messages[i].content);
    const QString& uid = c.messages[i].run_uid;
    if (!uid.isEmpty()) m->setTokens(uid, token_ends_.value(uid));
    m->setNote(c.messages[i].stop_reason);
  }
  updateRegenerate();
  stick_to_bottom_ = true;
  scrollToBottom();
}

void ChatView::appendMessage(const ChatMessageEntry& entry) {
  MessageWidget* m = addMessage(entry.role, static_cast<int>(messages_.size()));
  m->setContent(entry.content);
  m->setNote(entry.stop_reason);
  if (!entry.run_uid.isEmpty()) m->setTokens(entry.run_uid, token_ends_.value(entry.run_uid));
  m->setActionsEnabled(!busy_);
  stick_to_bottom_ = true;
  updateRegenerate();
}

void ChatView::beginAssistant() {
  streaming_ = addMessage(QStringLiteral("assistant"), static_cast<int>(messages_.size()));
  streaming_->setNote(tr("writing…"));
  stick_to_bottom_ = true;
  updateRegenerate();
}

void ChatView::setTokenEnds(const QString& run_uid, const QList<int>& token_ends) {
  if (run_uid.isEmpty()) return;
  token_ends_.insert(run_uid, token_ends);
  if (streaming_) {
    streaming_->setTokens(run_uid, token_ends);
    return;
  }
  for (MessageWidget* m : messages_) {
    if (m->runUid() == run_uid) m->setTokens(run_uid, token_ends);
  }
}

void ChatView::appendText(const QString& text) {
  if (streaming_) streaming_->appendStreamed(text);
}

void ChatView::finishAssistant(const QString& content, const QString& note) {
  if (!streaming_) return;
  streaming_->finishStreaming(content, note);
  streaming_ = nullptr;
  updateRegenerate();
}

NoticeCard* ChatView::addNotice(NoticeCard::Kind kind, const QString& title, const QString& text,
                                const QString& detail,
                                const QList<QPair<QString, QString>>& actions) {
  auto* card = new NoticeCard(kind, title, text, detail, actions, column_);
  connect(card, &NoticeCard::actionTriggered, this, &ChatView::noticeAction);
  insertBlock(card);
  notices_.append(card);
  stick_to_bottom_ = true;
  return card;
}

QList<NoticeCard*> ChatView::notices() const {
  QList<NoticeCard*> out;
  for (const QPointer<NoticeCard>& n : notices_) {
    if (n) out.append(n.data());
  }
  return out;
}

void ChatView::setWelcome(NoticeCard* card) {
  delete welcome_.data();
  welcome_ = card;
  if (!card) return;
  card->setParent(column_);
  connect(card, &NoticeCard::actionTriggered, this, &ChatView::noticeAction);
  layout_->insertWidget(0, card);
}

void ChatView::setBusy(bool busy) {
  busy_ = busy;
  for (MessageWidget* m : messages_) m->setActionsEnabled(!busy);
  updateRegenerate();
}

void ChatView::updateRegenerate() {
  for (int i = 0; i < messages_.size(); ++i) {
    const bool last = i == messages_.size() - 1;
    messages_[i]->setRegenerateVisible(last && !busy_ && messages_[i] != streaming_);
  }
}

void ChatView::resizeEvent(QResizeEvent* e) {
  QScrollArea::resizeEvent(e);
  // A readable line length: at most ~880 px of text, centred on wide windows.
  const int side = std::max(16, (viewport()->width() - 880) / 2);
  layout_->setContentsMargins(side, 12, side, 12);
}

void ChatView::scrollToBottom() { verticalScrollBar()->setValue(verticalScrollBar()->maximum()); }

}  // namespace flashchat::ui
