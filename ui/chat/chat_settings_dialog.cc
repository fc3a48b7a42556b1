#include "chat/chat_settings_dialog.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QPushButton>
#include <QRegularExpressionValidator>
#include <QVBoxLayout>

namespace flashchat::ui {

ChatSettingsDialog::ChatSettingsDialog(QWidget* parent) : QDialog(parent) {
  setWindowTitle(QStringLiteral("Chat settings"));
  auto* v = new QVBoxLayout(this);
  auto* basic = new QFormLayout;
  preset_ = new QComboBox(this);
  preset_->addItems(chat_preset_names());
  preset_->addItem(QStringLiteral("Custom"));
  basic->addRow(QStringLiteral("&Preset"), preset_);
  temperature_ = new QDoubleSpinBox(this);
  temperature_->setRange(0, 2);
  temperature_->setSingleStep(0.05);
  temperature_->setDecimals(2);
  temperature_->setToolTip(QStringLiteral("0 always picks the most likely token; higher is more varied"));
  basic->addRow(QStringLiteral("&Temperature"), temperature_);
  max_tokens_ = new QSpinBox(this);
  max_tokens_->setRange(1, 32768);
  max_tokens_->setToolTip(QStringLiteral("The reply ends after this many tokens"));
  basic->addRow(QStringLiteral("&Max tokens"), max_tokens_);
  system_ = new QPlainTextEdit(this);
  system_->setPlaceholderText(QStringLiteral("Optional instructions placed before the conversation"));
  system_->setTabChangesFocus(true);
  system_->setFixedHeight(system_->fontMetrics().lineSpacing() * 4 + 12);
  basic->addRow(QStringLiteral("&System prompt"), system_);
  v->addLayout(basic);

  auto* toggle = new QCheckBox(QStringLiteral("Show &advanced settings"), this);
  v->addWidget(toggle);
  advanced_ = new QGroupBox(QStringLiteral("Advanced"), this);
  auto* adv = new QFormLayout(advanced_);
  top_k_ = new QSpinBox(this);
  top_k_->setRange(0, 100000);
  top_k_->setSpecialValueText(QStringLiteral("off"));
  adv->addRow(QStringLiteral("Top-&k"), top_k_);
  top_p_ = new QDoubleSpinBox(this);
  top_p_->setRange(0.01, 1);
  top_p_->setSingleStep(0.01);
  adv->addRow(QStringLiteral("Top-&p"), top_p_);
  min_p_ = new QDoubleSpinBox(this);
  min_p_->setRange(0, 1);
  min_p_->setSingleStep(0.01);
  adv->addRow(QStringLiteral("M&in-p"), min_p_);
  repeat_ = new QDoubleSpinBox(this);
  repeat_->setRange(1, 2);
  repeat_->setSingleStep(0.05);
  adv->addRow(QStringLiteral("&Repetition penalty"), repeat_);
  seed_ = new QLineEdit(this);
  seed_->setValidator(new QRegularExpressionValidator(QRegularExpression(QStringLiteral("[0-9]{0,19}")), seed_));
  seed_->setPlaceholderText(QStringLiteral("0 = random each reply"));
  adv->addRow(QStringLiteral("S&eed"), seed_);
  advanced_->setVisible(false);
  v->addWidget(advanced_);
  connect(toggle, &QCheckBox::toggled, this, [this](bool on) {
    advanced_->setVisible(on);
    adjustSize();
  });
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::close);
  v->addWidget(buttons);

  connect(preset_, &QComboBox::textActivated, this, &ChatSettingsDialog::applyPreset);
  for (QDoubleSpinBox* s : {temperature_, top_p_, min_p_, repeat_}) {
    connect(s, &QDoubleSpinBox::valueChanged, this, &ChatSettingsDialog::emitChanged);
  }
  for (QSpinBox* s : {max_tokens_, top_k_}) {
    connect(s, &QSpinBox::valueChanged, this, &ChatSettingsDialog::emitChanged);
  }
  connect(seed_, &QLineEdit::textEdited, this, &ChatSettingsDialog::emitChanged);
  connect(system_, &QPlainTextEdit::textChanged, this, &ChatSettingsDialog::emitChanged);
}

void ChatSettingsDialog::setValues(const QString& title, const QString& system_prompt,
                                   const ChatSampling& s) {
  loading_ = true;
  setWindowTitle(QStringLiteral("Chat settings — %1").arg(title));
  temperature_->setValue(s.temperature);
  max_tokens_->setValue(s.max_tokens);
  top_k_->setValue(s.top_k);
  top_p_->setValue(s.top_p);
  min_p_->setValue(s.min_p);
  repeat_->setValue(s.repeat_penalty);
  seed_->setText(QString::number(s.seed));
  if (system_->toPlainText() != system_prompt) system_->setPlainText(system_prompt);
  preset_->setCurrentText(chat_preset_match(s));
  loading_ = false;
}

ChatSampling ChatSettingsDialog::sampling() const {
  ChatSampling s;
  s.temperature = temperature_->value();
  s.max_tokens = max_tokens_->value();
  s.top_k = top_k_->value();
  s.top_p = top_p_->value();
  s.min_p = min_p_->value();
  s.repeat_penalty = repeat_->value();
  s.seed = seed_->text().toULongLong();
  return s;
}

QString ChatSettingsDialog::systemPrompt() const { return system_->toPlainText(); }

void ChatSettingsDialog::applyPreset(const QString& name) {
  if (name == QLatin1String("Custom")) return;
  const ChatSampling s = chat_preset_apply(name, sampling());
  setValues(windowTitle().section(QStringLiteral(" — "), 1), systemPrompt(), s);
  emit changed(systemPrompt(), s);
}

void ChatSettingsDialog::emitChanged() {
  if (loading_) return;
  loading_ = true;
  preset_->setCurrentText(chat_preset_match(sampling()));
  loading_ = false;
  emit changed(systemPrompt(), sampling());
}

}  // namespace flashchat::ui
