// conversation.h - one chat as plain data: messages, system prompt, sampling settings, presets,
// and its JSON form (export/import, and the JSON files of FlashChat before the database).
#pragma once

#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

#include "model/sampler.h"

namespace flashchat::ui {

// The sampling settings of one conversation (mirrors flashchat::SamplingParams + max tokens).
struct ChatSampling {
  double temperature = 0.8;
  int top_k = 40;
  double top_p = 0.95;
  double min_p = 0.05;
  double repeat_penalty = 1.1;
  int max_tokens = 64;
  quint64 seed = 0;  // 0 = a new random seed per reply
  bool operator==(const ChatSampling&) const = default;

  // The engine's parameters; `seed_in_force` replaces a seed of 0.
  SamplingParams to_params(quint64 seed_in_force) const;
};

// Named presets ("Precise", "Balanced", "Creative", "Greedy"); max_tokens and seed are kept from
// `base` since presets only set the sampling shape.
QStringList chat_preset_names();
ChatSampling chat_preset_apply(const QString& name, const ChatSampling& base);
// The preset whose values equal `s` (ignoring max tokens and seed), or "Custom".
QString chat_preset_match(const ChatSampling& s);
// A preset name (or "Custom") in the UI language; the names above stay English (stored, compared).
QString chat_preset_display(const QString& name);
// The title of a new conversation ("New chat" in the UI language).
QString conversation_untitled();

struct ChatMessageEntry {
  ChatMessageEntry() = default;
  ChatMessageEntry(QString role_, QString content_, QString stop_reason_ = {})
      : role(std::move(role_)), content(std::move(content_)), stop_reason(std::move(stop_reason_)) {}
  QString role;      // "user", "assistant" (system prompt lives in Conversation)
  QString content;
  QString stop_reason;  // assistant only: "", "stopped", "max tokens", "end of text", ...
  // Assistant replies: what produced them (empty / 0 for user messages and old chats).
  QString model;          // model name
  QString sampling_json;  // the sampling settings in force (compact JSON)
  QString run_uid;        // the run (telemetry) in the database
  int prompt_tokens = 0, tokens = 0;
  double prompt_ms = 0, generate_ms = 0, ttft_ms = 0;
  bool operator==(const ChatMessageEntry&) const = default;
};

struct Conversation {
  QString id;  // file name stem, stable
  QString title;
  QString system_prompt;
  ChatSampling sampling;
  QList<ChatMessageEntry> messages;
  qint64 created_ms = 0;  // ms since epoch
  qint64 updated_ms = 0;

  // A new conversation with a fresh id and "New chat" title.
  static Conversation make_new();
  // The whole chat as Markdown-ish text (for "Copy chat").
  QString to_text() const;
};

QJsonObject chat_sampling_to_json(const ChatSampling& s);
ChatSampling chat_sampling_from_json(const QJsonObject& o);  // missing fields: defaults

QJsonObject conversation_to_json(const Conversation& c);
// Throws flashchat::Error when required fields are missing or of the wrong type.
Conversation conversation_from_json(const QJsonObject& o);

}  // namespace flashchat::ui
