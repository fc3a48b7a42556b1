// chat_settings_dialog.h - one conversation's system prompt and sampling settings: a preset,
// temperature and max tokens up front, the rest under "Advanced". Changes apply at once (the
// values shown are the values the next reply uses).
#pragma once

#include <QComboBox>
#include <QDialog>
#include <QDoubleSpinBox>
#include <QGroupBox>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QSpinBox>

#include "chat/conversation.h"

namespace flashchat::ui {

class ChatSettingsDialog : public QDialog {
  Q_OBJECT
 public:
  explicit ChatSettingsDialog(QWidget* parent = nullptr);
  // Shows these values (no changed() emitted).
  void setValues(const QString& conversation_title, const QString& system_prompt,
                 const ChatSampling& s);
  ChatSampling sampling() const;
  QString systemPrompt() const;

 signals:
  void changed(const QString& system_prompt, const flashchat::ui::ChatSampling& sampling);

 private:
  void emitChanged();
  void applyPreset(const QString& name);
  bool loading_ = false;
  QComboBox* preset_;
  QDoubleSpinBox* temperature_;
  QSpinBox* max_tokens_;
  QPlainTextEdit* system_;
  QGroupBox* advanced_;
  QSpinBox* top_k_;
  QDoubleSpinBox* top_p_;
  QDoubleSpinBox* min_p_;
  QDoubleSpinBox* repeat_;
  QLineEdit* seed_;
};

}  // namespace flashchat::ui
