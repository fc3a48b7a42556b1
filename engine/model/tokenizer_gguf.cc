// tokenizer_gguf.cc - TokenizerSpec from GGUF metadata (see tokenizer_gguf.h).
#include "model/tokenizer_gguf.h"

#include <cmath>

#include "core/error.h"
#include "model/pretokenizer.h"

namespace flashchat {

namespace {

// The array stored under `key`, checked to hold `want` elements; nullptr when absent.
const GgufValue* find_array(const GgufFile& f, const std::string& key, bool want_strings) {
  const GgufValue* v = f.find(key);
  if (!v) return nullptr;
  if (v->type != GgufType::ARRAY) fail(f.path(), key + " is not an array");
  const bool is_strings = v->array_type == GgufType::STRING;
  if (is_strings != want_strings || v->array_type == GgufType::ARRAY) {
    fail(f.path(),
         key + (want_strings ? " is not an array of strings" : " is not an array of numbers"));
  }
  const size_t n = want_strings ? v->array_strings.size() : v->array_numbers.size();
  if (n != v->array_size) fail(f.path(), key + " has inconsistent length");
  return v;
}

int read_id(const GgufFile& f, const std::string& key, int fallback, size_t n_tokens) {
  int64_t id = f.get_int_or(key, fallback);
  if (id == 0xFFFFFFFFll) id = -1;  // some converters store "none" as u32 -1
  if (id == -1 || (id == fallback && f.find(key) == nullptr)) return static_cast<int>(id);
  if (id < 0 || id >= static_cast<int64_t>(n_tokens)) {
    fail(f.path(), key + " = " + std::to_string(id) + " is out of range (vocabulary size " +
                       std::to_string(n_tokens) + ")");
  }
  return static_cast<int>(id);
}

}  // namespace

TokenizerSpec tokenizer_spec_from_gguf(const GgufFile& f) {
  TokenizerSpec spec;
  const GgufValue* model = f.find("tokenizer.ggml.model");
  if (!model) fail(f.path(), "no tokenizer (tokenizer.ggml.model missing)");
  if (model->type != GgufType::STRING) fail(f.path(), "tokenizer.ggml.model is not a string");
  const std::string& kind = model->as_string();
  if (kind == "llama") {
    spec.kind = TokenizerKind::Spm;
  } else if (kind == "gpt2") {
    spec.kind = TokenizerKind::ByteBpe;
  } else {
    fail(f.path(), "unsupported tokenizer model '" + kind +
                       "' (supported: llama (SentencePiece BPE), gpt2 (byte-level BPE))");
  }

  const GgufValue* tokens = find_array(f, "tokenizer.ggml.tokens", true);
  if (!tokens || tokens->array_strings.empty()) {
    fail(f.path(), "tokenizer.ggml.tokens missing or empty");
  }
  spec.tokens = tokens->array_strings;
  const size_t n = spec.tokens.size();

  if (const GgufValue* scores = find_array(f, "tokenizer.ggml.scores", false)) {
    if (scores->array_numbers.size() != n) {
      fail(f.path(), "tokenizer.ggml.scores has " + std::to_string(scores->array_numbers.size()) +
                         " entries for " + std::to_string(n) + " tokens");
    }
    spec.scores.reserve(n);
    for (double s : scores->array_numbers) {
      spec.scores.push_back(std::isfinite(s) ? static_cast<float>(s) : -1e30f);
    }
  }
  if (const GgufValue* types = find_array(f, "tokenizer.ggml.token_type", false)) {
    if (types->array_numbers.size() != n) {
      fail(f.path(), "tokenizer.ggml.token_type has " +
                         std::to_string(types->array_numbers.size()) + " entries for " +
                         std::to_string(n) + " tokens");
    }
    spec.token_types.reserve(n);
    for (double t : types->array_numbers) {
      const int v = static_cast<int>(t);
      spec.token_types.push_back(v >= 0 && v <= 6 ? static_cast<TokenType>(v)
                                                  : TokenType::Undefined);
    }
  }
  if (const GgufValue* merges = find_array(f, "tokenizer.ggml.merges", true)) {
    spec.merges = merges->array_strings;
  }
  if (spec.kind == TokenizerKind::ByteBpe && spec.merges.empty()) {
    fail(f.path(), "gpt2 tokenizer has no tokenizer.ggml.merges");
  }

  // llama.cpp's defaults for llama vocabularies: <unk> 0, <s> 1, </s> 2.
  const bool spm = spec.kind == TokenizerKind::Spm;
  spec.bos_id = read_id(f, "tokenizer.ggml.bos_token_id", spm && n > 1 ? 1 : -1, n);
  spec.eos_id = read_id(f, "tokenizer.ggml.eos_token_id", spm && n > 2 ? 2 : -1, n);
  spec.unk_id = read_id(f, "tokenizer.ggml.unknown_token_id", spm ? 0 : -1, n);
  spec.pad_id = read_id(f, "tokenizer.ggml.padding_token_id", -1, n);
  // Byte-level BPE splits words by the named regex family; an unknown name is an error, not a
  // silent fallback to another family's regexes (that would give other token ids).
  spec.pre_tokenizer = f.get_string_or("tokenizer.ggml.pre", "default");
  const PretokenizerFamily* family = nullptr;
  if (!spm) {
    family = pretokenizer_family_find(spec.pre_tokenizer);
    if (family == nullptr) {
      fail(f.path(), "unknown pre-tokenizer tokenizer.ggml.pre = '" + spec.pre_tokenizer +
                         "' (known: " + pretokenizer_known_names() + ")");
    }
  }
  // The BOS rule: tokenizer.ggml.add_bos_token when present, else llama.cpp's default for the
  // vocabulary (SentencePiece and the Llama 3 family: yes; other byte-level BPE: no).
  spec.add_bos = f.get_bool_or("tokenizer.ggml.add_bos_token", spm || (family && family->add_bos));
  spec.add_eos = f.get_bool_or("tokenizer.ggml.add_eos_token", false);
  spec.add_space_prefix = f.get_bool_or("tokenizer.ggml.add_space_prefix", spm);
  if (spec.bos_id < 0) spec.add_bos = false;
  return spec;
}

}  // namespace flashchat
