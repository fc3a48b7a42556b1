// model_load_gguf.cc - a Model from a llama.cpp GGUF file.
//
// Supported: general.architecture "llama" (also used by llama.cpp for Mistral and the
// ReLU-fied Llama variants; the FFN activation can be overridden with the key
// "<arch>.flashchat.activation" = "relu" | "relu2" | "drelu" | "gelu" | "silu").
// GGUF stores Q/K so that RoPE rotates adjacent pairs (RopeStyle::Interleaved).

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

}  // namespace

std::unique_ptr<Model> model_load_gguf(const std::string& path) {
  GgufFile file = GgufFile::open(path);
  auto model = std::make_unique<Model>();
  model->source_path = path;
  model->source_format = "gguf";
  model->storage.push_back(file.mapping());

  const std::string arch = file.get_string("general.architecture");
  if (arch != "llama") {
    fail(path, "unsupported architecture '" + arch + "' (supported in GGUF: llama)");
  }
  const std::string p = arch + ".";
  ModelConfig& c = model->config;
  c.arch = Arch::Llama;
  c.name = file.get_string_or("general.name", "");
  c.dim = positive(file, p + "embedding_length", file.get_int(p + "embedding_length"));
  c.n_layers = positive(file, p + "block_count", file.get_int(p + "block_count"));
  c.ffn_dim = positive(file, p + "feed_forward_length", file.get_int(p + "feed_forward_length"));
  c.n_heads = positive(file, p + "attention.head_count", file.get_int(p + "attention.head_count"));
  c.n_kv_heads = positive(file, p + "attention.head_count_kv",
                          file.get_int_or(p + "attention.head_count_kv", c.n_heads));
  c.max_seq_len = positive(file, p + "context_length", file.get_int_or(p + "context_length", 2048));
  c.norm_eps = static_cast<float>(file.get_double_or(p + "attention.layer_norm_rms_epsilon", 1e-5));
  c.rope_theta = static_cast<float>(file.get_double_or(p + "rope.freq_base", 10000.0));
  c.rope_style = RopeStyle::Interleaved;
  c.activation = activation_from_name(path, file.get_string_or(p + "flashchat.activation", "silu"));
  c.ffn_gated = true;
  if (c.dim % c.n_heads != 0 || c.n_heads % c.n_kv_heads != 0) {
    fail(path, "inconsistent attention shape: dim " + std::to_string(c.dim) + ", heads " +
                   std::to_string(c.n_heads) + ", kv heads " + std::to_string(c.n_kv_heads));
  }
  c.head_dim = c.dim / c.n_heads;
  const int64_t rope_dims = file.get_int_or(p + "rope.dimension_count", c.head_dim);
  if (rope_dims != c.head_dim) {
    fail(path, "partial rotary embeddings (rope.dimension_count " + std::to_string(rope_dims) +
                   " != head dim " + std::to_string(c.head_dim) + ") are not supported");
  }

  const GgufTensorInfo* embd = file.find_tensor("token_embd.weight");
  if (embd == nullptr) fail(path, "missing tensor 'token_embd.weight'");
  if (embd->ne.size() != 2) fail(path, "tensor 'token_embd.weight' is not a matrix");
  c.vocab_size = positive(file, "token_embd rows", embd->ne[1]);

  GgufLoader L{file, *model};
  ModelWeights& w = model->weights;
  const int64_t kv_dim = int64_t{c.n_kv_heads} * c.head_dim;
  w.token_embd = L.matrix("token_embd.weight", c.vocab_size, c.dim);
  w.output_norm = L.vector("output_norm.weight", c.dim);
  c.tied_output = file.find_tensor("output.weight") == nullptr;
  w.output = c.tied_output ? w.token_embd : L.matrix("output.weight", c.vocab_size, c.dim);
  w.layers.resize(c.n_layers);
  for (int i = 0; i < c.n_layers; ++i) {
    const std::string b = "blk." + std::to_string(i) + ".";
    LayerWeights& l = w.layers[i];
    l.attn_norm = L.vector(b + "attn_norm.weight", c.dim);
    l.wq = L.matrix(b + "attn_q.weight", c.dim, c.dim);
    l.wk = L.matrix(b + "attn_k.weight", kv_dim, c.dim);
    l.wv = L.matrix(b + "attn_v.weight", kv_dim, c.dim);
    l.wo = L.matrix(b + "attn_output.weight", c.dim, c.dim);
    l.ffn_norm = L.vector(b + "ffn_norm.weight", c.dim);
    l.ffn_gate = L.matrix(b + "ffn_gate.weight", c.ffn_dim, c.dim);
    l.ffn_up = L.matrix(b + "ffn_up.weight", c.ffn_dim, c.dim);
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
