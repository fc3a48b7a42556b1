// chat_template.h - turning a conversation into the prompt text a chat model was trained on.
//
// We do not run Jinja. The common template families are recognised from the model's
// chat_template string (or its architecture/name) and formatted by hand; the user can override.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace flashchat {

enum class ChatFormat { Plain, Llama2, ChatML, Zephyr, Mistral };

struct ChatMessage {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

// "plain", "llama2", "chatml", "zephyr", "mistral".
const char* chat_format_name(ChatFormat f);
// Parses a name as above; nullopt when unknown.
std::optional<ChatFormat> chat_format_from_name(const std::string& name);

// Picks the format from a model's Jinja template text (markers like "<|im_start|>", "[INST]",
// "<|user|>"); Plain when the template is empty or unrecognised.
ChatFormat chat_format_detect(const std::string& jinja_template);

// The prompt text for `messages`. With add_generation_prompt, ends with the assistant turn's
// opening so that generation continues as the assistant. BOS is not included (the tokenizer
// adds it).
std::string chat_format_apply(ChatFormat format, const std::vector<ChatMessage>& messages,
                              bool add_generation_prompt = true);

// Strings that end an assistant turn in this format (in addition to the EOS token), e.g.
// "<|im_end|>" for ChatML, "</s>" for Llama2, "\nUser:" style markers for Plain chat.
std::vector<std::string> chat_format_stop_strings(ChatFormat format);

}  // namespace flashchat
