// tokenizer_json.h - TokenizerSpec from a Hugging Face tokenizer.json.
#pragma once

#include <string>

#include "model/tokenizer_spec.h"

namespace flashchat {

// Reads a tokenizer.json whose model.type is "BPE":
// - byte-level BPE (ByteBpe) when the pre-tokenizer or decoder is ByteLevel (GPT-2, OPT);
// - SentencePiece-style (Spm) when it works on "▁"-marked text (normalizer Prepend("▁") +
//   Replace(" ", "▁"), a Metaspace pre-tokenizer, or byte_fallback). Spm scores are derived
//   from the merge ranks (the token a merge produces scores -rank), so greedy highest-score
//   merging follows the rank order.
// added_tokens become Control (special) or UserDefined tokens. BOS/EOS and add_bos/add_eos come
// from a tokenizer_config.json in the same directory when present, else from added tokens named
// <s>, </s> or <|endoftext|>. Throws Error naming the file and the problem for unreadable,
// malformed or unsupported input.
TokenizerSpec tokenizer_spec_from_hf_json(const std::string& path);

}  // namespace flashchat
