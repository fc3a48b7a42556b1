// model.h - a loaded model: config, weights, tokenizer description, chat template.
//
// Weight matrices keep their stored dtype (F32/F16/BF16 or block-quantised) and
// point into file maps where possible. Norm weights and all biases are F32. Everything the
// tensors point at is kept alive by `storage`.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "model/model_config.h"
#include "compute/tensor.h"
#include "model/tokenizer_spec.h"

namespace flashchat {

struct LayerWeights {
  Tensor attn_norm, attn_norm_bias;   // (1, dim); bias only for LayerNorm models
  Tensor wq, wk, wv, wo;              // wq (n_heads*head_dim, dim), wk/wv (n_kv*head_dim, dim),
                                      // wo (dim, n_heads*head_dim)
  Tensor bq, bk, bv, bo;              // optional biases (OPT)
  Tensor ffn_norm, ffn_norm_bias;     // (1, dim)
  Tensor ffn_gate;                    // (ffn_dim, dim); empty when !ffn_gated
  Tensor ffn_up;                      // (ffn_dim, dim)  (OPT fc1)
  Tensor ffn_down;                    // (dim, ffn_dim)  (OPT fc2)
  Tensor ffn_up_bias, ffn_down_bias;  // optional (OPT fc1/fc2 biases)
};

struct ModelWeights {
  Tensor token_embd;                  // (vocab, dim)
  Tensor pos_embd;                    // (max_seq_len + pos_offset, dim), OPT only
  Tensor output_norm, output_norm_bias;
  Tensor output;                      // (vocab, dim); == token_embd when tied
  std::vector<LayerWeights> layers;
};

// Bytes of the model by part, for `info` and for budget accounting later.
struct ModelBytes {
  int64_t embeddings = 0;  // token + position embeddings, and an untied output head
  int64_t attention = 0;   // q, k, v, o (+ biases)
  int64_t ffn = 0;         // gate, up, down (+ biases)
  int64_t other = 0;       // norms
  int64_t total() const { return embeddings + attention + ffn + other; }
};

struct Model {
  ModelConfig config;
  ModelWeights weights;
  TokenizerSpec tokenizer;
  std::string chat_template;   // the model's Jinja chat template, if it ships one
  std::string source_path;     // file or directory loaded
  std::string source_format;   // "gguf" or "safetensors"
  std::vector<std::shared_ptr<void>> storage;  // file maps and converted buffers

  ModelBytes bytes() const;
  // Every tensor the model holds (non-empty; a tied output head once, as token_embd).
  std::vector<const Tensor*> tensors() const;
  int64_t parameter_count() const;
};

// Loads a GGUF file, or a Hugging Face directory (config.json + *.safetensors +
// tokenizer.json). Throws Error naming the file and the problem on any bad input.
std::unique_ptr<Model> model_load(const std::string& path);

// The per-format loaders model_load dispatches to.
std::unique_ptr<Model> model_load_gguf(const std::string& path);
std::unique_ptr<Model> model_load_hf(const std::string& dir);

}  // namespace flashchat
