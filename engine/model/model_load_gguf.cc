// model_load_gguf.cc - a Model from a llama.cpp GGUF file.
//
// Supported general.architecture values:
//   llama   Llama 1-3, Mistral and the ReLU-fied Llama variants; Llama 3's RoPE scaling comes
//           as rope_freqs.weight (per-pair frequency divisors); no output.weight = tied head.
//           llama.cpp permutes Q/K so that RoPE rotates adjacent pairs (RopeStyle::Interleaved).
//   qwen2   Llama plus attn_{q,k,v}.bias; RoPE on half-split pairs (llama.cpp's NEOX).
//   phi3    fused attn_qkv.weight ([q; k; v] rows) and ffn_up.weight of 2*ffn rows ([gate; up]);
//           NEOX RoPE; longrope (rope_factors_long/short) refused; the context is capped at
//           phi3.attention.sliding_window when given (attention beyond it would differ).
//   falcon  LayerNorm with bias, parallel attention + FFN, attn_qkv ([q; k; v], reordered by
//           llama.cpp's converter), ungated GELU (exact erf, as the HF model), NEOX RoPE;
//           attn_norm_2 = the FFN's own LayerNorm (Falcon-40B style).
// The FFN activation can be overridden with "<arch>.flashchat.activation" = "relu" | "relu2" |
// "drelu" | "gelu" | "gelu_erf" | "silu" (ReLU-fied models run sparse in flash mode).

#include <string>

#include "core/error.h"
#include "core/shape_string.h"
#include "formats/gguf.h"
#include "model/model.h"
#include "model/tokenizer_gguf.h"
#include "model/weight_import.h"

namespace flashchat {

namespace {

struct GgufLoader {
  const GgufFile& file;
  Model& model;

  const GgufTensorInfo& info(const std::string& name) const {
    const GgufTensorInfo* t = file.find_tensor(name);
    if (t == nullptr) fail(file.path(), "missing tensor '" + name + "'");
    return *t;
  }

  void check_shape(const GgufTensorInfo& t, std::initializer_list<int64_t> expected_ne) const {
    std::vector<int64_t> want(expected_ne);
    if (t.ne != want) {
      fail(file.path(), "tensor '" + t.name + "' has shape " + shape_string(t.ne) + ", expected " +
                            shape_string(want) + " (ne, innermost first)");
    }
  }

  // A (rows, cols) matrix: GGUF ne = {cols, rows}.
  Tensor matrix(const std::string& name, int64_t rows, int64_t cols) const {
    const GgufTensorInfo& t = info(name);
    check_shape(t, {cols, rows});
    const uint8_t* data = file.tensor_data(t);  // throws for unsupported types
    return weight_import_matrix(model, t.dtype, data, rows, cols);
  }

  Tensor vector(const std::string& name, int64_t n) const {
    const GgufTensorInfo& t = info(name);
    check_shape(t, {n});
    return weight_import_vector(model, t.dtype, file.tensor_data(t), n);
  }
};

Activation activation_from_name(const std::string& source, const std::string& name) {
  if (name == "silu") return Activation::Silu;
  if (name == "gelu") return Activation::Gelu;
  if (name == "gelu_erf") return Activation::GeluErf;
  if (name == "relu") return Activation::Relu;
  if (name == "relu2") return Activation::Relu2;
  if (name == "drelu") return Activation::DRelu;
  fail(source, "unknown FFN activation '" + name + "'");
}

int positive(const GgufFile& f, const std::string& key, int64_t value) {
  if (value <= 0 || value > (int64_t{1} << 30)) {
    fail(f.path(), "metadata " + key + " = " + std::to_string(value) + " is out of range");
  }
  return static_cast<int>(value);
}

Arch arch_from_gguf(const std::string& path, const std::string& arch) {
  if (arch == "llama") return Arch::Llama;
  if (arch == "qwen2") return Arch::Qwen2;
  if (arch == "phi3") return Arch::Phi3;
  if (arch == "falcon") return Arch::Falcon;
  fail(path, "unsupported architecture '" + arch +
                 "' (supported in GGUF: llama, qwen2, phi3, falcon)");
}

// The shape and flavour from "<arch>." metadata and token_embd.
void gguf_config(const GgufFile& file, const std::string& arch_key, ModelConfig& c) {
  const std::string& path = file.path();
  const std::string p = arch_key + ".";
  const bool falcon = c.arch == Arch::Falcon;
  c.name = file.get_string_or("general.name", "");
  c.dim = positive(file, p + "embedding_length", file.get_int(p + "embedding_length"));
  c.n_layers = positive(file, p + "block_count", file.get_int(p + "block_count"));
  c.ffn_dim = positive(file, p + "feed_forward_length", file.get_int(p + "feed_forward_length"));
  c.n_heads = positive(file, p + "attention.head_count", file.get_int(p + "attention.head_count"));
  c.n_kv_heads = positive(file, p + "attention.head_count_kv",
                          file.get_int_or(p + "attention.head_count_kv", c.n_heads));
  c.max_seq_len = positive(file, p + "context_length", file.get_int_or(p + "context_length", 2048));
  c.norm_eps = static_cast<float>(
      falcon ? file.get_double_or(p + "attention.layer_norm_epsilon", 1e-5)
             : file.get_double_or(p + "attention.layer_norm_rms_epsilon", 1e-5));
  c.rope_theta = static_cast<float>(file.get_double_or(p + "rope.freq_base", 10000.0));
  // llama.cpp permutes Q/K of "llama" for adjacent pairs; the others keep HF's half split.
  c.rope_style = c.arch == Arch::Llama ? RopeStyle::Interleaved : RopeStyle::Halves;
  c.activation = activation_from_name(
      path, file.get_string_or(p + "flashchat.activation", falcon ? "gelu_erf" : "silu"));
  c.ffn_gated = !falcon;
  c.parallel_residual = falcon;
  if (c.n_heads % c.n_kv_heads != 0) {
    fail(path, "inconsistent attention shape: heads " + std::to_string(c.n_heads) +
                   ", kv heads " + std::to_string(c.n_kv_heads));
  }
  const int64_t key_length = file.get_int_or(p + "attention.key_length", 0);
  if (key_length == 0 && c.dim % c.n_heads != 0) {
    fail(path, "inconsistent attention shape: dim " + std::to_string(c.dim) + ", heads " +
                   std::to_string(c.n_heads));
  }
  c.head_dim = key_length > 0 ? positive(file, p + "attention.key_length", key_length)
                              : c.dim / c.n_heads;
  const int64_t rope_dims = file.get_int_or(p + "rope.dimension_count", c.head_dim);
  if (rope_dims != c.head_dim) {
    fail(path, "partial rotary embeddings (rope.dimension_count " + std::to_string(rope_dims) +
                   " != head dim " + std::to_string(c.head_dim) + ") are not supported");
  }
  if (c.arch == Arch::Phi3) {
    for (const char* t : {"rope_factors_long.weight", "rope_factors_short.weight"}) {
      if (file.find_tensor(t) != nullptr) {
        fail(path, std::string("longrope RoPE scaling (tensor '") + t + "') is not supported");
      }
    }
    const int64_t window = file.get_int_or(p + "attention.sliding_window", 0);
    if (window > 0 && window < c.max_seq_len) c.max_seq_len = static_cast<int>(window);
  }
  const GgufTensorInfo* embd = file.find_tensor("token_embd.weight");
  if (embd == nullptr) fail(path, "missing tensor 'token_embd.weight'");
  if (embd->ne.size() != 2) fail(path, "tensor 'token_embd.weight' is not a matrix");
  c.vocab_size = positive(file, "token_embd rows", embd->ne[1]);
}

}  // namespace

std::unique_ptr<Model> model_load_gguf(const std::string& path) {
  GgufFile file = GgufFile::open(path);
  auto model = std::make_unique<Model>();
  model->source_path = path;
  model->source_format = "gguf";
  model->storage.push_back(file.mapping());

  const std::string arch = file.get_string("general.architecture");
  ModelConfig& c = model->config;
  c.arch = arch_from_gguf(path, arch);
  gguf_config(file, arch, c);

  GgufLoader L{file, *model};
  ModelWeights& w = model->weights;
  const int64_t q_dim = int64_t{c.n_heads} * c.head_dim;
  const int64_t kv_dim = int64_t{c.n_kv_heads} * c.head_dim;
  const bool falcon = c.arch == Arch::Falcon;
  auto has = [&file](const std::string& name) { return file.find_tensor(name) != nullptr; };
  if (has("rope_freqs.weight")) {
    const Tensor f = L.vector("rope_freqs.weight", c.head_dim / 2);
    c.rope_freq_factors.assign(f.f32(), f.f32() + c.head_dim / 2);
  }
  w.token_embd = L.matrix("token_embd.weight", c.vocab_size, c.dim);
  w.output_norm = L.vector("output_norm.weight", c.dim);
  if (falcon) w.output_norm_bias = L.vector("output_norm.bias", c.dim);
  c.tied_output = !has("output.weight");
  w.output = c.tied_output ? w.token_embd : L.matrix("output.weight", c.vocab_size, c.dim);
  w.layers.resize(c.n_layers);
  for (int i = 0; i < c.n_layers; ++i) {
    const std::string b = "blk." + std::to_string(i) + ".";
    LayerWeights& l = w.layers[i];
    l.attn_norm = L.vector(b + "attn_norm.weight", c.dim);
    if (falcon) l.attn_norm_bias = L.vector(b + "attn_norm.bias", c.dim);
    if (has(b + "attn_qkv.weight")) {  // fused [q; k; v] (phi3, falcon)
      const Tensor qkv = L.matrix(b + "attn_qkv.weight", q_dim + 2 * kv_dim, c.dim);
      l.wq = weight_rows_view(qkv, 0, q_dim);
      l.wk = weight_rows_view(qkv, q_dim, kv_dim);
      l.wv = weight_rows_view(qkv, q_dim + kv_dim, kv_dim);
    } else {
      l.wq = L.matrix(b + "attn_q.weight", q_dim, c.dim);
      l.wk = L.matrix(b + "attn_k.weight", kv_dim, c.dim);
      l.wv = L.matrix(b + "attn_v.weight", kv_dim, c.dim);
    }
    l.wo = L.matrix(b + "attn_output.weight", c.dim, q_dim);
    if (c.arch == Arch::Qwen2) {
      l.bq = L.vector(b + "attn_q.bias", q_dim);
      l.bk = L.vector(b + "attn_k.bias", kv_dim);
      l.bv = L.vector(b + "attn_v.bias", kv_dim);
    }
    if (falcon) {
      // Falcon-40B style: the FFN has its own LayerNorm; Falcon-7B: the attention's.
      const bool own = has(b + "attn_norm_2.weight");
      l.ffn_norm = own ? L.vector(b + "attn_norm_2.weight", c.dim) : l.attn_norm;
      l.ffn_norm_bias = own ? L.vector(b + "attn_norm_2.bias", c.dim) : l.attn_norm_bias;
    } else {
      l.ffn_norm = L.vector(b + "ffn_norm.weight", c.dim);
    }
    if (c.arch == Arch::Phi3 && !has(b + "ffn_gate.weight")) {
      // llama.cpp's phi3 SwiGLU: silu(first half) * second half, i.e. rows [gate; up].
      const Tensor gate_up = L.matrix(b + "ffn_up.weight", 2 * int64_t{c.ffn_dim}, c.dim);
      l.ffn_gate = weight_rows_view(gate_up, 0, c.ffn_dim);
      l.ffn_up = weight_rows_view(gate_up, c.ffn_dim, c.ffn_dim);
    } else {
      if (c.ffn_gated) l.ffn_gate = L.matrix(b + "ffn_gate.weight", c.ffn_dim, c.dim);
      l.ffn_up = L.matrix(b + "ffn_up.weight", c.ffn_dim, c.dim);
    }
    l.ffn_down = L.matrix(b + "ffn_down.weight", c.dim, c.ffn_dim);
  }

  model->tokenizer = tokenizer_spec_from_gguf(file);
  // Embedding tables may be padded beyond the vocabulary, never shorter.
  if (static_cast<int>(model->tokenizer.tokens.size()) > c.vocab_size) {
    fail(path, "tokenizer has " + std::to_string(model->tokenizer.tokens.size()) +
                   " tokens but token_embd has " + std::to_string(c.vocab_size) + " rows");
  }
  model->chat_template = file.get_string_or("tokenizer.chat_template", "");
  return model;
}

}  // namespace flashchat
