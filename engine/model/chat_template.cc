// chat_template.cc - hand-written formatting for the common chat template families
// (see chat_template.h).
#include "model/chat_template.h"

#include <algorithm>
#include <cctype>

#include "core/error.h"

namespace flashchat {

namespace {

constexpr const char* kSource = "chat template";

void check_role(const ChatMessage& m) {
  if (m.role != "system" && m.role != "user" && m.role != "assistant") {
    fail(kSource, "unknown message role '" + m.role + "' (expected system, user or assistant)");
  }
}

std::string trim(const std::string& s) {
  const char* ws = " \t\n\r\f\v";
  const size_t a = s.find_first_not_of(ws);
  if (a == std::string::npos) return {};
  return s.substr(a, s.find_last_not_of(ws) - a + 1);
}

// Appends a system message to the pending system text (several are joined by a blank line).
void add_system(std::string& pending, const std::string& content) {
  if (!pending.empty()) pending += "\n\n";
  pending += content;
}

// [INST] <<SYS>>\n{sys}\n<</SYS>>\n\n{user} [/INST] {assistant} </s><s>[INST] ...
std::string apply_llama2(const std::vector<ChatMessage>& messages) {
  std::string out, sys;
  for (const ChatMessage& m : messages) {
    if (m.role == "system") {
      add_system(sys, m.content);
    } else if (m.role == "user") {
      out += "[INST] ";
      if (!sys.empty()) out += "<<SYS>>\n" + sys + "\n<</SYS>>\n\n";
      sys.clear();
      out += m.content + " [/INST]";
    } else {
      out += " " + m.content + " </s><s>";
    }
  }
  return out;
}

// [INST] {sys}\n\n{user} [/INST]{assistant}</s>[INST] ...
std::string apply_mistral(const std::vector<ChatMessage>& messages) {
  std::string out, sys;
  for (const ChatMessage& m : messages) {
    if (m.role == "system") {
      add_system(sys, m.content);
    } else if (m.role == "user") {
      out += "[INST] ";
      if (!sys.empty()) out += sys + "\n\n";
      sys.clear();
      out += m.content + " [/INST]";
    } else {
      out += m.content + "</s>";
    }
  }
  return out;
}

// [INST] {u1}[/INST] {a1}</s>[INST] {sys}\n\n{u_last}[/INST]: Mistral v0.3 puts the system text
// in the last user turn and trims replies.
std::string apply_mistral_v3(const std::vector<ChatMessage>& messages) {
  std::string out, sys;
  size_t last_user = messages.size();
  for (size_t i = 0; i < messages.size(); ++i) {
    if (messages[i].role == "system") add_system(sys, messages[i].content);
    if (messages[i].role == "user") last_user = i;
  }
  for (size_t i = 0; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    if (m.role == "user") {
      const std::string prefix = i == last_user && !sys.empty() ? sys + "\n\n" : "";
      out += "[INST] " + prefix + m.content + "[/INST]";
    } else if (m.role == "assistant") {
      out += " " + trim(m.content) + "</s>";
    }
  }
  return out;
}

// Qwen's ChatML templates write a default system turn when the conversation has none.
std::string apply_chatml(const std::vector<ChatMessage>& messages, bool gen,
                         const std::string& default_system) {
  std::string out;
  const bool has_system = !messages.empty() && messages.front().role == "system";
  if (!has_system && !default_system.empty()) {
    out += "<|im_start|>system\n" + default_system + "<|im_end|>\n";
  }
  for (const ChatMessage& m : messages) {
    out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
  }
  if (gen) out += "<|im_start|>assistant\n";
  return out;
}

// <|start_header_id|>{role}<|end_header_id|>\n\n{content, trimmed}<|eot_id|>; BOS
// (<|begin_of_text|>) comes from the tokenizer. Llama 3.1+ always writes a system turn that
// starts with its preamble (the system messages follow it).
std::string apply_llama3(const std::vector<ChatMessage>& messages, bool gen,
                         const std::string& preamble) {
  auto turn = [](const std::string& role, const std::string& content) {
    return "<|start_header_id|>" + role + "<|end_header_id|>\n\n" + content + "<|eot_id|>";
  };
  std::string out;
  if (!preamble.empty()) {
    std::string sys;
    for (const ChatMessage& m : messages) {
      if (m.role == "system") add_system(sys, trim(m.content));
    }
    out += turn("system", preamble + sys);
  }
  for (const ChatMessage& m : messages) {
    if (m.role == "system" && !preamble.empty()) continue;
    out += turn(m.role, trim(m.content));
  }
  if (gen) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
  return out;
}

// <|system|>\n{sys}<|end|>\n<|user|>\n{u}<|end|>\n<|assistant|>\n{a}<|end|>\n ...
std::string apply_phi3(const std::vector<ChatMessage>& messages, bool gen) {
  std::string out;
  for (const ChatMessage& m : messages) out += "<|" + m.role + "|>\n" + m.content + "<|end|>\n";
  if (gen) out += "<|assistant|>\n";
  return out;
}

// System: {sys}\nUser: {u}\nFalcon: {a}\nUser: ... \nFalcon: (Falcon-180B-chat's format).
std::string apply_falcon(const std::vector<ChatMessage>& messages, bool gen) {
  std::string out;
  for (const ChatMessage& m : messages) {
    if (!out.empty()) out += "\n";
    out += (m.role == "system" ? "System: " : m.role == "user" ? "User: " : "Falcon: ") + m.content;
  }
  if (gen) out += "\nFalcon:";
  return out;
}

std::string apply_zephyr(const std::vector<ChatMessage>& messages, bool gen) {
  std::string out;
  for (const ChatMessage& m : messages) out += "<|" + m.role + "|>\n" + m.content + "</s>\n";
  if (gen) out += "<|assistant|>\n";
  return out;
}

// {system}\n\nUser: {u}\nAssistant: {a}\n ... Assistant:
std::string apply_plain(const std::vector<ChatMessage>& messages, bool gen) {
  std::string out;
  for (const ChatMessage& m : messages) {
    if (m.role == "system") {
      out += m.content + "\n\n";
    } else if (m.role == "user") {
      out += "User: " + m.content + "\n";
    } else {
      out += "Assistant: " + m.content + "\n";
    }
  }
  if (gen) out += "Assistant:";
  return out;
}

constexpr ChatFormat kAllFormats[] = {
    ChatFormat::Plain,     ChatFormat::Llama2, ChatFormat::ChatML, ChatFormat::Zephyr,
    ChatFormat::Mistral,   ChatFormat::MistralV3, ChatFormat::Llama3, ChatFormat::Phi3,
    ChatFormat::Falcon};

// The text of a Jinja string literal that starts right after `marker` in `jinja` (the first
// occurrence followed by plain text up to `end`); "" when there is none.
std::string literal_after(const std::string& jinja, const std::string& marker,
                          const std::string& end) {
  for (size_t at = jinja.find(marker); at != std::string::npos; at = jinja.find(marker, at + 1)) {
    const size_t from = at + marker.size();
    const size_t to = jinja.find(end, from);
    if (to == std::string::npos) return {};
    const std::string text = jinja.substr(from, to - from);
    if (!text.empty() && text.find_first_of("'\"{}+\\") == std::string::npos) return text;
  }
  return {};
}

}  // namespace

const char* chat_format_name(ChatFormat f) {
  switch (f) {
    case ChatFormat::Plain:
      return "plain";
    case ChatFormat::Llama2:
      return "llama2";
    case ChatFormat::ChatML:
      return "chatml";
    case ChatFormat::Zephyr:
      return "zephyr";
    case ChatFormat::Mistral:
      return "mistral";
    case ChatFormat::MistralV3:
      return "mistral-v3";
    case ChatFormat::Llama3:
      return "llama3";
    case ChatFormat::Phi3:
      return "phi3";
    case ChatFormat::Falcon:
      return "falcon";
  }
  return "plain";
}

std::optional<ChatFormat> chat_format_from_name(const std::string& name) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (ChatFormat f : kAllFormats) {
    if (lower == chat_format_name(f)) return f;
  }
  return std::nullopt;
}

ChatFormat chat_format_detect(const std::string& jinja_template) {
  const auto has = [&](const char* marker) {
    return jinja_template.find(marker) != std::string::npos;
  };
  if (has("<|start_header_id|>") && has("<|end_header_id|>")) return ChatFormat::Llama3;
  if (has("<|im_start|>")) return ChatFormat::ChatML;
  if (has("[INST]")) {
    if (has("<<SYS>>")) return ChatFormat::Llama2;
    // v0.1/v0.2 write ' [/INST]' after the user text; v0.3 writes "[/INST]" right after it.
    return has(" [/INST]") ? ChatFormat::Mistral : ChatFormat::MistralV3;
  }
  if (has("<|assistant|>") && has("<|end|>")) return ChatFormat::Phi3;
  if (has("<|user|>")) return ChatFormat::Zephyr;
  if (has("Falcon:")) return ChatFormat::Falcon;
  return ChatFormat::Plain;
}

ChatTemplate chat_template_detect(const std::string& jinja_template) {
  ChatTemplate t;
  t.format = chat_format_detect(jinja_template);
  if (t.format == ChatFormat::ChatML) {
    // In the Jinja source the newline is the two characters \n inside a string literal.
    t.default_system = literal_after(jinja_template, "<|im_start|>system\\n", "<|im_end|>");
  }
  if (t.format == ChatFormat::Llama3 &&
      jinja_template.find("Cutting Knowledge Date: ") != std::string::npos) {
    const std::string knowledge =
        literal_after(jinja_template, "Cutting Knowledge Date: ", "\\n");
    std::string today = literal_after(jinja_template, "date_string = \"", "\"");
    if (today.empty()) today = "26 Jul 2024";  // the template's default date_string
    t.system_preamble = "Cutting Knowledge Date: " + knowledge + "\nToday Date: " + today + "\n\n";
  }
  return t;
}

std::string chat_format_apply(ChatFormat format, const std::vector<ChatMessage>& messages,
                              bool add_generation_prompt) {
  ChatTemplate t;
  t.format = format;
  return chat_template_apply(t, messages, add_generation_prompt);
}

std::string chat_template_apply(const ChatTemplate& tmpl, const std::vector<ChatMessage>& messages,
                                bool add_generation_prompt) {
  for (const ChatMessage& m : messages) check_role(m);
  switch (tmpl.format) {
    case ChatFormat::Llama2:
      return apply_llama2(messages);
    case ChatFormat::Mistral:
      return apply_mistral(messages);
    case ChatFormat::MistralV3:
      return apply_mistral_v3(messages);
    case ChatFormat::Llama3:
      return apply_llama3(messages, add_generation_prompt, tmpl.system_preamble);
    case ChatFormat::Phi3:
      return apply_phi3(messages, add_generation_prompt);
    case ChatFormat::Falcon:
      return apply_falcon(messages, add_generation_prompt);
    case ChatFormat::ChatML:
      return apply_chatml(messages, add_generation_prompt, tmpl.default_system);
    case ChatFormat::Zephyr:
      return apply_zephyr(messages, add_generation_prompt);
    case ChatFormat::Plain:
      break;
  }
  return apply_plain(messages, add_generation_prompt);
}

std::vector<std::string> chat_format_stop_strings(ChatFormat format) {
  switch (format) {
    case ChatFormat::Llama2:
      return {"</s>", "[INST]"};
    case ChatFormat::Mistral:
    case ChatFormat::MistralV3:
      return {"</s>", "[INST]"};
    case ChatFormat::Llama3:
      return {"<|eot_id|>", "<|start_header_id|>"};
    case ChatFormat::Phi3:
      return {"<|end|>", "<|user|>", "<|endoftext|>"};
    case ChatFormat::Falcon:
      return {"\nUser:", "\nSystem:"};
    case ChatFormat::ChatML:
      return {"<|im_end|>", "<|im_start|>"};
    case ChatFormat::Zephyr:
      return {"</s>", "<|user|>", "<|system|>"};
    case ChatFormat::Plain:
      break;
  }
  return {"\nUser:", "\nAssistant:"};
}

}  // namespace flashchat
