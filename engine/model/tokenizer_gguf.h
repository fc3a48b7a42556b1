// tokenizer_gguf.h - TokenizerSpec from a GGUF file's `tokenizer.ggml.*` metadata.
#pragma once

#include "formats/gguf.h"
#include "model/tokenizer_spec.h"

namespace flashchat {

// Reads tokenizer.ggml.model ("llama" -> Spm, "gpt2" -> ByteBpe), tokens, scores, token_type,
// merges, the bos/eos/unknown/padding ids, add_bos_token/add_eos_token, add_space_prefix
// (default true for "llama") and pre. add_bos (the model's BOS rule) is
// tokenizer.ggml.add_bos_token, else true for "llama" and the llama3 pre-tokenizer family, false
// for other byte-level BPE. Throws Error naming the file when the model kind is missing or
// unsupported, when a gpt2 vocabulary names an unknown pre-tokenizer, or when an array has the
// wrong type or length.
TokenizerSpec tokenizer_spec_from_gguf(const GgufFile& f);

}  // namespace flashchat
