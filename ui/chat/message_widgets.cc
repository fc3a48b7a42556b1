#include "chat/message_widgets.h"

#include <QAbstractTextDocumentLayout>
#include <QApplication>
#include <QClipboard>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QPlainTextEdit>
#include <QScrollBar>
#include <QMouseEvent>
#include <QTextCursor>
#include <algorithm>
#include <cmath>

#include "chat/markdown_segments.h"

namespace flashchat::ui {

TextBlock::TextBlock(QWidget* parent) : QTextBrowser(parent) {
  setFrameShape(QFrame::NoFrame);
  setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  setOpenExternalLinks(true);
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
  setTextInteractionFlags(Qt::TextBrowserInteraction);
  viewport()->setAutoFillBackground(false);
  setStyleSheet(QStringLiteral("QTextBrowser { background: transparent; }"));
  document()->setDocumentMargin(2);
  connect(document()->documentLayout(), &QAbstractTextDocumentLayout::documentSizeChanged, this,
          [this] { fitHeight(); });
}

void TextBlock::fitHeight() {
  int h = static_cast<int>(std::ceil(document()->size().height())) + 2 * frameWidth();
  // Unwrapped code wider than the box gets a horizontal scroll bar below the text.
  if (horizontalScrollBarPolicy() != Qt::ScrollBarAlwaysOff &&
      document()->idealWidth() > viewport()->width()) {
    h += horizontalScrollBar()->sizeHint().height();
  }
  if (h != height()) {
    setFixedHeight(h);
    updateGeometry();
  }
}

void TextBlock::resizeEvent(QResizeEvent* e) {
  QTextBrowser::resizeEvent(e);
  document()->setTextWidth(viewport()->width());
  fitHeight();
}

QSize TextBlock::sizeHint() const {
  return {200, static_cast<int>(std::ceil(document()->size().height())) + 2 * frameWidth()};
}
QSize TextBlock::minimumSizeHint() const { return {60, sizeHint().height()}; }

namespace {

QPushButton* small_button(const QString& text, const QString& tip, QWidget* parent) {
  auto* b = new QPushButton(text, parent);
  b->setFlat(true);
  b->setToolTip(tip);
  b->setCursor(Qt::PointingHandCursor);
  b->setFocusPolicy(Qt::TabFocus);
  return b;
}

QWidget* code_box(const MarkdownSegment& seg, QWidget* parent) {
  auto* box = new QFrame(parent);
  box->setObjectName(QStringLiteral("codeBox"));
  box->setFrameShape(QFrame::StyledPanel);
  auto* v = new QVBoxLayout(box);
  v->setContentsMargins(6, 4, 6, 6);
  v->setSpacing(2);
  auto* head = new QHBoxLayout;
  auto* lang = new QLabel(seg.language.isEmpty() ? MessageWidget::tr("code") : seg.language, box);
  lang->setProperty("dim", true);
  head->addWidget(lang);
  head->addStretch(1);
  auto* copy =
      small_button(MessageWidget::tr("Copy code"), MessageWidget::tr("Copy this code block"), box);
  const QString code = seg.text;
  QObject::connect(copy, &QPushButton::clicked, box, [code] { QApplication::clipboard()->setText(code); });
  head->addWidget(copy);
  v->addLayout(head);
  auto* text = new TextBlock(box);
  text->setLineWrapMode(QTextEdit::NoWrap);
  text->setHorizontalScrollBarPolicy(Qt::ScrollBarAsNeeded);
  text->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  text->setPlainText(code);
  v->addWidget(text);
  return box;
}

}  // namespace

MessageWidget::MessageWidget(const QString& role, int index, QWidget* parent)
    : QFrame(parent), role_(role), index_(index) {
  const bool user = role == QLatin1String("user");
  setObjectName(user ? QStringLiteral("userMessage") : QStringLiteral("assistantMessage"));
  setFrameShape(QFrame::NoFrame);
  auto* v = new QVBoxLayout(this);
  v->setContentsMargins(12, 8, 12, 6);
  v->setSpacing(2);
  auto* head = new QHBoxLayout;
  head->setSpacing(4);
  auto* who = new QLabel(user ? tr("You") : tr("Model"), this);
  QFont f = who->font();
  f.setBold(true);
  who->setFont(f);
  head->addWidget(who);
  note_ = new QLabel(this);
  note_->setProperty("dim", true);
  head->addWidget(note_);
  head->addStretch(1);
  auto* copy = small_button(tr("Copy"), tr("Copy this message"), this);
  connect(copy, &QPushButton::clicked, this, [this] { emit copyRequested(index_); });
  actions_ << copy;
  if (user) {
    edit_ = small_button(tr("Edit"), tr("Edit this message and send it again"), this);
    connect(edit_, &QPushButton::clicked, this, [this] { emit editRequested(index_); });
    actions_ << edit_;
    head->addWidget(edit_);
  } else {
    regenerate_ = small_button(tr("Regenerate"), tr("Write this reply again"), this);
    connect(regenerate_, &QPushButton::clicked, this, [this] { emit regenerateRequested(); });
    regenerate_->setVisible(false);
    actions_ << regenerate_;
    head->addWidget(regenerate_);
  }
  head->addWidget(copy);
  v->addLayout(head);
  body_ = new QVBoxLayout;
  body_->setSpacing(6);
  v->addLayout(body_);
}

void MessageWidget::clearBody() {
  while (QLayoutItem* item = body_->takeAt(0)) {
    delete item->widget();
    delete item;
  }
  stream_ = nullptr;
  blocks_.clear();
}

void MessageWidget::setTokens(const QString& run_uid, const QList<int>& token_ends) {
  run_uid_ = run_uid;
  token_ends_ = token_ends;
  for (TextBlock* b : blocks_) {
    b->viewport()->setCursor(token_ends_.isEmpty() ? Qt::IBeamCursor : Qt::PointingHandCursor);
    b->setToolTip(token_ends_.isEmpty() ? QString()
                                        : tr("Click a word to see what its token cost"));
  }
}

int MessageWidget::tokenAtOffset(int offset) const {
  if (offset < 0 || token_ends_.isEmpty()) return -1;
  const auto it = std::upper_bound(token_ends_.begin(), token_ends_.end(), offset);
  return it == token_ends_.end() ? -1 : int(it - token_ends_.begin());
}

namespace {

bool word_char(QChar c) { return c.isLetterOrNumber() || c == QLatin1Char('\'') || c == QLatin1Char('_'); }

// The word around `pos` in `text`: [start, end).
std::pair<int, int> word_around(const QString& text, int pos) {
  pos = std::clamp(pos, 0, int(text.size()));
  int a = pos, b = pos;
  if (a < text.size() && !word_char(text[a]) && a > 0 && word_char(text[a - 1])) --a, --b;
  while (a > 0 && word_char(text[a - 1])) --a;
  while (b < text.size() && word_char(text[b])) ++b;
  if (a == b && b < text.size()) ++b;  // punctuation: the character itself
  return {a, b};
}

}  // namespace

int MessageWidget::contentOffset(const TextBlock* block, int pos) const {
  // The Markdown source and the rendered text differ in markup only: the clicked word is the
  // k-th occurrence of that word in the rendered blocks, so it is the k-th in the source.
  if (!blocks_.contains(const_cast<TextBlock*>(block))) return -1;
  const QString clicked = block->document()->toPlainText();
  const auto [a, e] = word_around(clicked, pos);
  const QString word = clicked.mid(a, e - a);
  if (word.isEmpty()) return -1;
  int k = 0;  // occurrences before the clicked one, over the blocks in order
  for (const TextBlock* b : blocks_) {
    const QString text = b == block ? clicked : b->document()->toPlainText();
    for (int at = text.indexOf(word); at >= 0 && (b != block || at < a); at = text.indexOf(word, at + 1)) {
      ++k;
    }
    if (b == block) break;
  }
  int at = content_.indexOf(word);
  for (int i = 0; i < k && at >= 0; ++i) at = content_.indexOf(word, at + 1);
  return at;
}

bool MessageWidget::eventFilter(QObject* watched, QEvent* e) {
  if (e->type() == QEvent::MouseButtonRelease && !token_ends_.isEmpty()) {
    auto* me = static_cast<QMouseEvent*>(e);
    for (TextBlock* b : blocks_) {
      if (watched != b->viewport() || me->button() != Qt::LeftButton) continue;
      if (b->textCursor().hasSelection()) break;  // selecting text, not asking
      const int pos = b->cursorForPosition(me->position().toPoint()).position();
      const int offset = contentOffset(b, pos);
      const int token = tokenAtOffset(offset);
      if (token >= 0) {
        const QString text = b->document()->toPlainText();
        const auto [a, z] = word_around(text, pos);
        emit tokenClicked(index_, run_uid_, token, text.mid(a, z - a), me->globalPosition().toPoint());
      }
      break;
    }
  }
  return QFrame::eventFilter(watched, e);
}

void MessageWidget::setContent(const QString& markdown) {
  content_ = markdown;
  clearBody();
  const QList<MarkdownSegment> segments = markdown_split(markdown);
  for (const MarkdownSegment& seg : segments) {
    if (seg.code) {
      body_->addWidget(code_box(seg, this));
    } else {
      auto* text = new TextBlock(this);
      if (role_ == QLatin1String("user")) {
        text->setPlainText(seg.text);  // what the user typed, verbatim
      } else {
        text->document()->setMarkdown(seg.text);
        text->viewport()->installEventFilter(this);
        blocks_.append(text);
      }
      body_->addWidget(text);
    }
  }
  if (segments.isEmpty()) {
    auto* text = new TextBlock(this);
    body_->addWidget(text);
  }
  setTokens(run_uid_, token_ends_);  // cursor and hint on the new blocks
}

void MessageWidget::appendStreamed(const QString& text) {
  if (!stream_) {
    clearBody();
    stream_ = new TextBlock(this);
    body_->addWidget(stream_);
    stream_->viewport()->installEventFilter(this);
    blocks_.append(stream_);
  }
  content_ += text;
  QTextCursor c(stream_->document());
  c.movePosition(QTextCursor::End);
  c.insertText(text);
}

void MessageWidget::finishStreaming(const QString& markdown, const QString& note) {
  setContent(markdown);
  setNote(note);
}

void MessageWidget::setNote(const QString& note) {
  // Stored stop reasons are English (QT_TRANSLATE_NOOP in the "StopReason" context): shown
  // translated.
  const QString shown =
      QCoreApplication::translate("flashchat::ui::StopReason", note.toUtf8().constData());
  note_->setText(note.isEmpty() ? QString() : QStringLiteral("· ") + shown);
}

void MessageWidget::setActionsEnabled(bool enabled) {
  for (QPushButton* b : actions_) {
    if (b != actions_.front()) b->setEnabled(enabled);  // Copy always works
  }
}

void MessageWidget::setRegenerateVisible(bool visible) {
  if (regenerate_) regenerate_->setVisible(visible);
}

NoticeCard::NoticeCard(Kind kind, const QString& title, const QString& text, const QString& detail,
                       const QList<QPair<QString, QString>>& actions, QWidget* parent)
    : QFrame(parent), title_(title) {
  setObjectName(kind == Kind::Error ? QStringLiteral("errorCard") : QStringLiteral("infoCard"));
  setFrameShape(QFrame::StyledPanel);
  auto* v = new QVBoxLayout(this);
  v->setContentsMargins(14, 10, 14, 10);
  v->setSpacing(6);
  auto* head = new QHBoxLayout;
  auto* t = new QLabel(title, this);
  QFont f = t->font();
  f.setBold(true);
  t->setFont(f);
  head->addWidget(t, 1);
  auto* close = new QPushButton(tr("Dismiss"), this);
  close->setFlat(true);
  close->setToolTip(tr("Hide this card"));
  connect(close, &QPushButton::clicked, this, [this] { deleteLater(); });
  head->addWidget(close);
  v->addLayout(head);
  auto* body = new QLabel(text, this);
  body->setWordWrap(true);
  body->setTextInteractionFlags(Qt::TextSelectableByMouse);
  v->addWidget(body);
  if (!detail.isEmpty()) {
    auto* d = new QLabel(detail, this);
    d->setWordWrap(true);
    d->setProperty("dim", true);
    d->setTextInteractionFlags(Qt::TextSelectableByMouse);
    v->addWidget(d);
  }
  if (!actions.isEmpty()) {
    auto* row = new QHBoxLayout;
    for (const auto& [id, label] : actions) {
      auto* b = new QPushButton(label, this);
      const QString action = id;
      connect(b, &QPushButton::clicked, this, [this, action] { emit actionTriggered(action); });
      row->addWidget(b);
    }
    row->addStretch(1);
    v->addLayout(row);
  }
}

}  // namespace flashchat::ui
