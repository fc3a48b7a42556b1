// tokenizer_spec.h - everything needed to build a Tokenizer, independent of where it came from
// (GGUF `tokenizer.ggml.*` metadata or a Hugging Face tokenizer.json).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace flashchat {

enum class TokenizerKind : uint8_t {
  Spm,        // SentencePiece-style BPE over "▁"-marked text with <0xXX> byte fallback (llama)
  ByteBpe,    // byte-level BPE with GPT-2's byte-to-unicode alphabet and merges (GPT-2, OPT)
};

// Token attribute, as GGUF's tokenizer.ggml.token_type.
enum class TokenType : int32_t {
  Undefined = 0, Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6,
};

struct TokenizerSpec {
  TokenizerKind kind = TokenizerKind::Spm;
  std::vector<std::string> tokens;      // id -> token text as stored ("▁the", "<0x0A>", "Ġthe")
  std::vector<float> scores;            // Spm: merge priority per token (higher merges first)
  std::vector<TokenType> token_types;   // empty = all Normal
  std::vector<std::string> merges;      // ByteBpe: "left right", rank = index
  std::string pre_tokenizer = "default";  // ByteBpe pre-tokenizer regex family ("gpt2", ...)
  int bos_id = -1;
  int eos_id = -1;
  int unk_id = -1;
  int pad_id = -1;
  bool add_bos = true;                  // prepend BOS when encoding a prompt
  bool add_eos = false;
  bool add_space_prefix = true;         // Spm: prepend "▁" to the text before encoding
};

}  // namespace flashchat
