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

std::string apply_chatml(const std::vector<ChatMessage>& messages, bool gen) {
  std::string out;
  for (const ChatMessage& m : messages) {
    out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
  }
  if (gen) out += "<|im_start|>assistant\n";
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
  }
  return "plain";
}

std::optional<ChatFormat> chat_format_from_name(const std::string& name) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (ChatFormat f : {ChatFormat::Plain, ChatFormat::Llama2, ChatFormat::ChatML,
                       ChatFormat::Zephyr, ChatFormat::Mistral}) {
    if (lower == chat_format_name(f)) return f;
  }
  return std::nullopt;
}

ChatFormat chat_format_detect(const std::string& jinja_template) {
  const auto has = [&](const char* marker) {
    return jinja_template.find(marker) != std::string::npos;
  };
  if (has("<|im_start|>")) return ChatFormat::ChatML;
  if (has("[INST]")) return has("<<SYS>>") ? ChatFormat::Llama2 : ChatFormat::Mistral;
  if (has("<|user|>")) return ChatFormat::Zephyr;
  return ChatFormat::Plain;
}

std::string chat_format_apply(ChatFormat format, const std::vector<ChatMessage>& messages,
                              bool add_generation_prompt) {
  for (const ChatMessage& m : messages) check_role(m);
  switch (format) {
    case ChatFormat::Llama2:
      return apply_llama2(messages);
    case ChatFormat::Mistral:
      return apply_mistral(messages);
    case ChatFormat::ChatML:
      return apply_chatml(messages, add_generation_prompt);
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
      return {"</s>", "[INST]"};
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
