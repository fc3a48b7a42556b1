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
  setWindowTitle(tr("Chat settings"));
  auto* v = new QVBoxLayout(this);
  auto* basic = new QFormLayout;
  preset_ = new QComboBox(this);
  // Item data: the preset's English name (what chat_preset_* compare); text: in the UI language.
  for (const QString& name : chat_preset_names()) preset_->addItem(chat_preset_display(name), name);
  preset_->addItem(chat_preset_display(QStringLiteral("Custom")), QStringLiteral("Custom"));
  basic->addRow(tr("&Preset"), preset_);
  temperature_ = new QDoubleSpinBox(this);
  temperature_->setRange(0, 2);
  temperature_->setSingleStep(0.05);
  temperature_->setDecimals(2);
  temperature_->setToolTip(tr("0 always picks the most likely token; higher is more varied"));
  basic->addRow(tr("&Temperature"), temperature_);
  max_tokens_ = new QSpinBox(this);
  max_tokens_->setRange(1, 32768);
  max_tokens_->setToolTip(tr("The reply ends after this many tokens"));
  basic->addRow(tr("&Max tokens"), max_tokens_);
  system_ = new QPlainTextEdit(this);
  system_->setPlaceholderText(tr("Optional instructions placed before the conversation"));
  system_->setTabChangesFocus(true);
  system_->setFixedHeight(system_->fontMetrics().lineSpacing() * 4 + 12);
  basic->addRow(tr("&System prompt"), system_);
  v->addLayout(basic);

  auto* toggle = new QCheckBox(tr("Show &advanced settings"), this);
  v->addWidget(toggle);
  advanced_ = new QGroupBox(tr("Advanced"), this);
  auto* adv = new QFormLayout(advanced_);
  top_k_ = new QSpinBox(this);
  top_k_->setRange(0, 100000);
  top_k_->setSpecialValueText(tr("off"));
  adv->addRow(tr("Top-&k"), top_k_);
  top_p_ = new QDoubleSpinBox(this);
  top_p_->setRange(0.01, 1);
  top_p_->setSingleStep(0.01);
  adv->addRow(tr("Top-&p"), top_p_);
  min_p_ = new QDoubleSpinBox(this);
  min_p_->setRange(0, 1);
  min_p_->setSingleStep(0.01);
  adv->addRow(tr("M&in-p"), min_p_);
  repeat_ = new QDoubleSpinBox(this);
  repeat_->setRange(1, 2);
  repeat_->setSingleStep(0.05);
  adv->addRow(tr("&Repetition penalty"), repeat_);
  seed_ = new QLineEdit(this);
  seed_->setValidator(new QRegularExpressionValidator(QRegularExpression(QStringLiteral("[0-9]{0,19}")), seed_));
  seed_->setPlaceholderText(tr("0 = random each reply"));
  adv->addRow(tr("S&eed"), seed_);
  advanced_->setVisible(false);
  v->addWidget(advanced_);
  connect(toggle, &QCheckBox::toggled, this, [this](bool on) {
    advanced_->setVisible(on);
    adjustSize();
  });
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::close);
  v->addWidget(buttons);

  connect(preset_, &QComboBox::activated, this,
          [this](int i) { applyPreset(preset_->itemData(i).toString()); });
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
  setWindowTitle(tr("Chat settings — %1").arg(title));
  temperature_->setValue(s.temperature);
  max_tokens_->setValue(s.max_tokens);
  top_k_->setValue(s.top_k);
  top_p_->setValue(s.top_p);
  min_p_->setValue(s.min_p);
  repeat_->setValue(s.repeat_penalty);
  seed_->setText(QString::number(s.seed));
  if (system_->toPlainText() != system_prompt) system_->setPlainText(system_prompt);
  preset_->setCurrentIndex(preset_->findData(chat_preset_match(s)));
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
  preset_->setCurrentIndex(preset_->findData(chat_preset_match(sampling())));
  loading_ = false;
  emit changed(systemPrompt(), sampling());
}

}  // namespace flashchat::ui
