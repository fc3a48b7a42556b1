// tokenizer.h - text <-> token ids for the two tokenizer families the engine supports.
//
// Spm: SentencePiece-style BPE as llama.cpp does it: optional "▁" prefix, spaces become "▁",
// symbols are merged greedily by the highest vocabulary score, pieces with no token fall back
// to <0xXX> byte tokens. ByteBpe: words split by the pre-tokenizer family's regexes
// (pretokenizer.h), bytes mapped to GPT-2's printable alphabet, merges applied by rank. Both
// decode back to the original bytes.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "model/tokenizer_spec.h"

namespace flashchat {

class Tokenizer {
 public:
  // Throws Error when the spec is inconsistent (no tokens, scores/types length mismatch,
  // special ids out of range, merges naming unknown tokens).
  explicit Tokenizer(TokenizerSpec spec);
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  // Token ids for `text`. add_bos prepends BOS (when the vocabulary has one). With
  // parse_special, occurrences of control/user-defined token texts (e.g. "<|im_start|>") in the
  // text become those tokens; otherwise they are tokenised as plain text.
  std::vector<int> encode(std::string_view text, bool add_bos, bool parse_special = false) const;

  // Token ids of a prompt, by the model's own BOS rule: BOS first when spec().add_bos says so
  // (GGUF tokenizer.ggml.add_bos_token, the tokenizer.json post-processor or tokenizer_config's
  // add_bos_token, else the vocabulary family's default), and also for an empty text when the
  // vocabulary has a BOS (generation needs a first token). Every prompt the engine builds goes
  // through here.
  std::vector<int> encode_prompt(std::string_view text, bool parse_special) const;

  // Text of a sequence of ids. Control tokens (BOS/EOS/...) produce no text. For Spm the "▁"
  // prefix added at encode time is removed from the first piece of the sequence.
  std::string decode(const std::vector<int>& ids) const;

  // Raw bytes one token contributes when it follows `prev` (for streaming): byte tokens give
  // their byte, "▁" becomes a space, a leading space is dropped after BOS for Spm. May be an
  // incomplete UTF-8 sequence; see Utf8Streamer.
  std::string token_bytes(int prev, int id) const;

  const std::string& token_text(int id) const;
  int vocab_size() const;
  int bos_id() const;
  int eos_id() const;
  bool is_control(int id) const;  // BOS, EOS, and other control tokens
  const TokenizerSpec& spec() const;
  // Heap bytes this tokenizer holds (vocabulary, lookup maps), counted from its structures with
  // glibc's chunk sizes: what the DRAM budget charges for it.
  int64_t memory_bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Buffers bytes until they form complete UTF-8 characters, so a streamed token that ends in the
// middle of a character (byte-fallback tokens) is held back until the rest arrives.
class Utf8Streamer {
 public:
  // Appends bytes and returns the longest complete-UTF-8 prefix of everything pending.
  std::string push(std::string_view bytes);
  // Returns what is left (possibly invalid UTF-8) and clears.
  std::string flush();

 private:
  std::string pending_;
};

}  // namespace flashchat
