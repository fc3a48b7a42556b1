// chat_template.h - turning a conversation into the prompt text a chat model was trained on.
//
// We do not run Jinja. The common template families are recognised from the model's
// chat_template string (or its architecture/name) and formatted by hand; the user can override.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace flashchat {

enum class ChatFormat {
  Plain,      // "System text\n\nUser: ...\nAssistant: ..." (no template)
  Llama2,     // [INST] <<SYS>>...<</SYS>> ... [/INST]
  ChatML,     // <|im_start|>role\n...<|im_end|> (Qwen, many fine-tunes)
  Zephyr,     // <|user|>\n...</s>
  Mistral,    // [INST] sys\n\nuser [/INST]reply</s> (v0.1/v0.2: system with the first user turn)
  MistralV3,  // [INST] user[/INST] reply</s> (v0.3: system with the last user turn)
  Llama3,     // <|start_header_id|>role<|end_header_id|>\n\n...<|eot_id|>
  Phi3,       // <|system|>\n...<|end|>\n<|user|>\n...<|end|>\n<|assistant|>\n
  Falcon,     // System: ...\nUser: ...\nFalcon: ... (Falcon-180B-chat)
};

// A detected template: the format plus what the model's template says beyond it.
struct ChatTemplate {
  ChatFormat format = ChatFormat::Plain;
  // ChatML (Qwen): the system message the template inserts when the conversation has none.
  std::string default_system;
  // Llama 3.1+: text the template puts at the start of the system turn, which it always writes
  // ("Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n").
  std::string system_preamble;
};

struct ChatMessage {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

// "plain", "llama2", "chatml", "zephyr", "mistral", "mistral-v3", "llama3", "phi3", "falcon".
const char* chat_format_name(ChatFormat f);
// Parses a name as above; nullopt when unknown.
std::optional<ChatFormat> chat_format_from_name(const std::string& name);

// Picks the format from a model's Jinja template text (markers like "<|start_header_id|>",
// "<|im_start|>", "[INST]", "<|end|>", "<|user|>", "Falcon:"); Plain when the template is empty
// or unrecognised.
ChatFormat chat_format_detect(const std::string& jinja_template);
// The format and the template's own system defaults (a literal default system message after
// "<|im_start|>system\n", Llama 3.1's knowledge-date preamble).
ChatTemplate chat_template_detect(const std::string& jinja_template);

// The prompt text for `messages`. With add_generation_prompt, ends with the assistant turn's
// opening so that generation continues as the assistant. BOS is not included (the tokenizer
// adds it).
std::string chat_format_apply(ChatFormat format, const std::vector<ChatMessage>& messages,
                              bool add_generation_prompt = true);
// As chat_format_apply, with the template's system defaults. System messages go where each
// family puts them: a turn of their own (ChatML, Llama 3, Phi-3, Zephyr, Falcon), inside the
// first user turn (Llama 2 <<SYS>>, Mistral v0.1) or the last one (Mistral v0.3). Throws Error
// for a role other than system, user or assistant.
std::string chat_template_apply(const ChatTemplate& tmpl, const std::vector<ChatMessage>& messages,
                                bool add_generation_prompt = true);

// Strings that end an assistant turn in this format (in addition to the EOS token), e.g.
// "<|im_end|>" for ChatML, "</s>" for Llama2, "\nUser:" style markers for Plain chat.
std::vector<std::string> chat_format_stop_strings(ChatFormat format);

}  // namespace flashchat
