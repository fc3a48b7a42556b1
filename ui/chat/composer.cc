#include "chat/composer.h"

#include <QHBoxLayout>
#include <QKeyEvent>
#include <QVBoxLayout>

namespace flashchat::ui {

void ComposerEdit::keyPressEvent(QKeyEvent* e) {
  if ((e->key() == Qt::Key_Return || e->key() == Qt::Key_Enter) &&
      (e->modifiers() & Qt::ControlModifier)) {
    emit submit();
    return;
  }
  QPlainTextEdit::keyPressEvent(e);
}

Composer::Composer(QWidget* parent) : QWidget(parent) {
  setObjectName(QStringLiteral("composer"));
  auto* v = new QVBoxLayout(this);
  v->setContentsMargins(16, 6, 16, 10);
  v->setSpacing(4);
  auto* bannerRow = new QHBoxLayout;
  banner_ = new QLabel(this);
  cancel_edit_ = new QPushButton(tr("Cancel edit"), this);
  cancel_edit_->setFlat(true);
  bannerRow->addWidget(banner_, 1);
  bannerRow->addWidget(cancel_edit_);
  v->addLayout(bannerRow);
  banner_->hide();
  cancel_edit_->hide();
  connect(cancel_edit_, &QPushButton::clicked, this, [this] {
    setEditing(-1);
    clear();
    emit editCancelled();
  });
  auto* row = new QHBoxLayout;
  row->setSpacing(8);
  edit_ = new ComposerEdit(this);
  edit_->setPlaceholderText(tr("Type a message…  (Ctrl+Enter sends, Esc stops)"));
  edit_->setTabChangesFocus(true);
  const int line = edit_->fontMetrics().lineSpacing();
  edit_->setFixedHeight(line * 3 + 14);
  edit_->setAccessibleName(tr("Message"));
  row->addWidget(edit_, 1);
  send_ = new QPushButton(tr("Send"), this);
  send_->setToolTip(tr("Send (Ctrl+Enter)"));
  send_->setMinimumWidth(send_->fontMetrics().horizontalAdvance(tr("Stop  (Esc)")) + 16);
  send_->setDefault(false);
  row->addWidget(send_, 0, Qt::AlignBottom);
  v->addLayout(row);
  connect(edit_, &ComposerEdit::submit, this, &Composer::trySend);
  connect(send_, &QPushButton::clicked, this, [this] {
    if (busy_) {
      emit stopRequested();
    } else {
      trySend();
    }
  });
}

QString Composer::text() const { return edit_->toPlainText(); }
void Composer::setText(const QString& text) { edit_->setPlainText(text); }
void Composer::clear() { edit_->clear(); }

void Composer::trySend() {
  if (busy_) return;
  const QString t = text().trimmed();
  if (t.isEmpty()) return;
  emit sendRequested(t);
}

void Composer::setBusy(bool busy) {
  busy_ = busy;
  send_->setText(busy ? tr("Stop") : tr("Send"));
  send_->setToolTip(busy ? tr("Stop the reply, keep what is written (Esc)")
                         : tr("Send (Ctrl+Enter)"));
}

void Composer::setEditing(int index) {
  editing_ = index;
  banner_->setVisible(index >= 0);
  cancel_edit_->setVisible(index >= 0);
  if (index >= 0) {
    banner_->setText(tr("Editing message %1 — sending replaces it and every message "
                        "after it.")
                         .arg(index + 1));
  }
}

}  // namespace flashchat::ui
