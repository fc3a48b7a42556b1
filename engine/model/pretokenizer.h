// pretokenizer.h - splitting text into the words a byte-level BPE merges within, by the regex
// families GGUF names in `tokenizer.ggml.pre` (llama3, qwen2, deepseek-llm, deepseek-coder,
// falcon, mpt, starcoder, refact, gpt-2, ...) and their tokenizer.json equivalents.
//
// A family is an ordered list of regexes. Each regex splits every piece the previous ones left:
// its matches become pieces and so does the unmatched text between them ("Isolated" splitting,
// as Hugging Face's Split pre-tokenizer and llama.cpp do it). Each piece is matched on its own,
// so `$` and look-ahead see the piece's end. The regexes run on ICU's engine (its `\s` covers
// U+000B and U+0085 like the Unicode White_Space property; tests/pretokenizer_test.cc checks).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace flashchat {

struct PretokenizerFamily {
  std::string name;                  // canonical name ("llama3")
  std::vector<std::string> aliases;  // other tokenizer.ggml.pre values meaning the same
  std::vector<std::string> regexes;  // applied in order
  // tokenizer.json writes some patterns differently (e.g. "(?i:'s|...)" for "'[sS]|..."); a
  // tokenizer.json whose pre-tokenizer translates to these is this family too.
  std::vector<std::string> hf_regexes;
  bool ignore_merges = false;  // a word that is itself a token is not merged (llama3)
  bool add_bos = false;        // llama.cpp's BOS default for this family when GGUF is silent
};

// The family named `pre` (canonical name or alias, e.g. "llama-bpe" -> llama3); nullptr when no
// family has that name.
const PretokenizerFamily* pretokenizer_family_find(std::string_view pre);

// "default, gpt-2, llama3, ...": every name pretokenizer_family_find accepts, for messages.
std::string pretokenizer_known_names();

// The family whose regexes (or hf_regexes) are exactly `regexes`; nullptr when none.
const PretokenizerFamily* pretokenizer_family_of_regexes(const std::vector<std::string>& regexes);

class Pretokenizer {
 public:
  // Compiles family `pre`'s regexes. Throws Error (source `source`, e.g. the file) naming the
  // unknown pre-tokenizer and the known ones when no family has that name.
  Pretokenizer(std::string_view pre, const std::string& source);
  ~Pretokenizer();
  Pretokenizer(Pretokenizer&&) noexcept;
  Pretokenizer& operator=(Pretokenizer&&) noexcept;

  // The pieces of `text`, in order, as byte ranges of it (they concatenate to `text`). Invalid
  // UTF-8 bytes are pieces' bytes like any other (they match as U+FFFD).
  std::vector<std::string_view> split(std::string_view text) const;

  const PretokenizerFamily& family() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace flashchat
