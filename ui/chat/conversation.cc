#include "chat/conversation.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QJsonArray>
#include <QUuid>
#include <cmath>

#include "core/error.h"

namespace flashchat::ui {

SamplingParams ChatSampling::to_params(quint64 seed_in_force) const {
  SamplingParams p;
  p.temperature = static_cast<float>(temperature);
  p.top_k = top_k;
  p.top_p = static_cast<float>(top_p);
  p.min_p = static_cast<float>(min_p);
  p.repeat_penalty = static_cast<float>(repeat_penalty);
  p.seed = seed_in_force;
  return p;
}

namespace {

struct Preset {
  const char* name;
  double temperature;
  int top_k;
  double top_p;
  double min_p;
  double repeat_penalty;
};

constexpr Preset kPresets[] = {
    {QT_TRANSLATE_NOOP("flashchat::ui::ChatSampling", "Precise"), 0.3, 20, 0.9, 0.1, 1.1},
    {QT_TRANSLATE_NOOP("flashchat::ui::ChatSampling", "Balanced"), 0.8, 40, 0.95, 0.05, 1.1},
    {QT_TRANSLATE_NOOP("flashchat::ui::ChatSampling", "Creative"), 1.1, 100, 0.98, 0.02, 1.05},
    {QT_TRANSLATE_NOOP("flashchat::ui::ChatSampling", "Greedy"), 0.0, 1, 1.0, 0.0, 1.0},
};

bool near(double a, double b) { return std::fabs(a - b) < 1e-6; }

}  // namespace

QStringList chat_preset_names() {
  QStringList names;
  for (const Preset& p : kPresets) names << QString::fromLatin1(p.name);
  return names;
}

ChatSampling chat_preset_apply(const QString& name, const ChatSampling& base) {
  ChatSampling s = base;
  for (const Preset& p : kPresets) {
    if (name != QLatin1String(p.name)) continue;
    s.temperature = p.temperature;
    s.top_k = p.top_k;
    s.top_p = p.top_p;
    s.min_p = p.min_p;
    s.repeat_penalty = p.repeat_penalty;
  }
  return s;
}

QString chat_preset_match(const ChatSampling& s) {
  for (const Preset& p : kPresets) {
    if (near(s.temperature, p.temperature) && s.top_k == p.top_k && near(s.top_p, p.top_p) &&
        near(s.min_p, p.min_p) && near(s.repeat_penalty, p.repeat_penalty)) {
      return QString::fromLatin1(p.name);
    }
  }
  return QStringLiteral(QT_TRANSLATE_NOOP("flashchat::ui::ChatSampling", "Custom"));
}

QString chat_preset_display(const QString& name) {
  return QCoreApplication::translate("flashchat::ui::ChatSampling", name.toUtf8().constData());
}

QString conversation_untitled() {
  return QCoreApplication::translate("flashchat::ui::Conversation", "New chat");
}

Conversation Conversation::make_new() {
  Conversation c;
  c.id = QUuid::createUuid().toString(QUuid::WithoutBraces);
  c.title = conversation_untitled();
  c.created_ms = c.updated_ms = QDateTime::currentMSecsSinceEpoch();
  return c;
}

QString Conversation::to_text() const {
  QString out;
  if (!system_prompt.isEmpty())
    out += QCoreApplication::translate("flashchat::ui::Conversation", "**System:** ") +
           system_prompt + "\n\n";
  for (const ChatMessageEntry& m : messages) {
    out += (m.role == QLatin1String("user")
                ? QCoreApplication::translate("flashchat::ui::Conversation", "**You:** ")
                : QCoreApplication::translate("flashchat::ui::Conversation", "**Model:** "));
    out += m.content + "\n\n";
  }
  return out.trimmed();
}

QJsonObject chat_sampling_to_json(const ChatSampling& s) {
  return QJsonObject{{"temperature", s.temperature}, {"top_k", s.top_k},
                     {"top_p", s.top_p},             {"min_p", s.min_p},
                     {"repeat_penalty", s.repeat_penalty},
                     {"max_tokens", s.max_tokens},
                     {"seed", QString::number(s.seed)}};
}

ChatSampling chat_sampling_from_json(const QJsonObject& s) {
  ChatSampling c;
  const ChatSampling d;
  c.temperature = s.value("temperature").toDouble(d.temperature);
  c.top_k = s.value("top_k").toInt(d.top_k);
  c.top_p = s.value("top_p").toDouble(d.top_p);
  c.min_p = s.value("min_p").toDouble(d.min_p);
  c.repeat_penalty = s.value("repeat_penalty").toDouble(d.repeat_penalty);
  c.max_tokens = s.value("max_tokens").toInt(d.max_tokens);
  c.seed = s.value("seed").toString().toULongLong();
  return c;
}

QJsonObject conversation_to_json(const Conversation& c) {
  const QJsonObject s = chat_sampling_to_json(c.sampling);
  QJsonArray messages;
  for (const ChatMessageEntry& m : c.messages) {
    QJsonObject o{{"role", m.role}, {"content", m.content}};
    if (!m.stop_reason.isEmpty()) o["stop_reason"] = m.stop_reason;
    if (!m.model.isEmpty()) o["model"] = m.model;
    if (!m.sampling_json.isEmpty()) o["sampling"] = m.sampling_json;
    if (!m.run_uid.isEmpty()) o["run"] = m.run_uid;
    if (m.tokens > 0 || m.prompt_tokens > 0) {
      o["timing"] = QJsonObject{{"prompt_tokens", m.prompt_tokens}, {"tokens", m.tokens},
                                {"prompt_ms", m.prompt_ms},         {"generate_ms", m.generate_ms},
                                {"ttft_ms", m.ttft_ms}};
    }
    messages.append(o);
  }
  return QJsonObject{{"version", 1},
                     {"id", c.id},
                     {"title", c.title},
                     {"system_prompt", c.system_prompt},
                     {"sampling", s},
                     {"messages", messages},
                     {"created_ms", QString::number(c.created_ms)},
                     {"updated_ms", QString::number(c.updated_ms)}};
}

Conversation conversation_from_json(const QJsonObject& o) {
  if (!o.value("id").isString() || o.value("id").toString().isEmpty()) {
    fail("conversation", "missing 'id'");
  }
  if (!o.value("messages").isArray()) fail("conversation", "missing 'messages' array");
  Conversation c;
  c.id = o.value("id").toString();
  c.title = o.value("title").toString(QStringLiteral("Untitled"));
  c.system_prompt = o.value("system_prompt").toString();
  c.sampling = chat_sampling_from_json(o.value("sampling").toObject());
  for (const QJsonValue& v : o.value("messages").toArray()) {
    const QJsonObject m = v.toObject();
    const QString role = m.value("role").toString();
    if (role != QLatin1String("user") && role != QLatin1String("assistant")) {
      fail("conversation " + c.id.toStdString(), "message with unknown role '" +
                                                     role.toStdString() + "'");
    }
    ChatMessageEntry e{role, m.value("content").toString(), m.value("stop_reason").toString()};
    e.model = m.value("model").toString();
    e.sampling_json = m.value("sampling").toString();
    e.run_uid = m.value("run").toString();
    const QJsonObject t = m.value("timing").toObject();
    e.prompt_tokens = t.value("prompt_tokens").toInt();
    e.tokens = t.value("tokens").toInt();
    e.prompt_ms = t.value("prompt_ms").toDouble();
    e.generate_ms = t.value("generate_ms").toDouble();
    e.ttft_ms = t.value("ttft_ms").toDouble();
    c.messages.append(e);
  }
  c.created_ms = o.value("created_ms").toString().toLongLong();
  c.updated_ms = o.value("updated_ms").toString().toLongLong();
  return c;
}

}  // namespace flashchat::ui
