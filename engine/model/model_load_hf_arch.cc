// model_load_hf_arch.cc - Hugging Face checkpoints of Qwen2, Phi-3 and Falcon, and Llama 3's
// RoPE scaling (the Llama and OPT loaders are in model_load_hf.cc).
//
//   qwen2   Llama layout plus self_attn.{q,k,v}_proj.bias.
//   phi3    self_attn.qkv_proj = [q; k; v] rows and mlp.gate_up_proj = [gate; up] rows, split into
//           views (by llama_weights); rope_scaling (longrope / su) and partial_rotary_factor < 1 are refused; the
//           context is capped at sliding_window (exact up to it).
//   falcon  transformer.* names; fused query_key_value in HF's per-head layouts (multi_query:
//           [q heads; k; v]; new_decoder_architecture: per KV group [q..; k; v]; otherwise per
//           head [q; k; v]); parallel attention + MLP (input_layernorm, or ln_attn / ln_mlp);
//           LayerNorm with bias; ungated exact-erf GELU, or hidden_act / activation "relu" for
//           ReLU-fied checkpoints; alibi and bias = true are refused.
#include <cmath>
#include <string>
#include <vector>

#include "model/hf_fields.h"

namespace flashchat::hf {

namespace {

// Pair j of a head_dim RoPE: its frequency's divisor under Llama 3 scaling (HF
// _compute_llama3_parameters): 1 for short wavelengths, `factor` for long ones, a smooth blend
// in between.
std::vector<float> rope_llama3_factors(int head_dim, double theta, double factor, double low,
                                       double high, double original_context) {
  constexpr double kPi = 3.14159265358979323846;
  const double low_wavelen = original_context / low;
  const double high_wavelen = original_context / high;
  std::vector<float> out;
  for (int j = 0; j < head_dim / 2; ++j) {
    const double inv_freq = std::pow(theta, -2.0 * j / head_dim);
    const double wavelen = 2 * kPi / inv_freq;
    double divisor = 1.0;
    if (wavelen > low_wavelen) {
      divisor = factor;
    } else if (wavelen >= high_wavelen) {
      const double smooth = (original_context / wavelen - low) / (high - low);
      divisor = 1.0 / ((1.0 - smooth) / factor + smooth);
    }
    out.push_back(static_cast<float>(divisor));
  }
  return out;
}

// The rows of a fused projection, or a view when they are one contiguous range.
Tensor rows_select(Model& m, const Tensor& fused, const std::vector<int64_t>& rows) {
  bool contiguous = true;
  for (size_t i = 1; i < rows.size(); ++i) contiguous = contiguous && rows[i] == rows[i - 1] + 1;
  if (contiguous && !rows.empty()) {
    return weight_rows_view(fused, rows.front(), static_cast<int64_t>(rows.size()));
  }
  return weight_rows_gather(m, fused, rows);
}

// Falcon-40B's layout: new_decoder_architecture, or the original remote-code "RefinedWeb" (40B)
// configs, which imply it ("RefinedWebModel", the 7B, is multi-query).
bool falcon_new_architecture(const ConfigFields& f) {
  return f.boolean_or("new_decoder_architecture", false) ||
         f.string_or("model_type", "") == "RefinedWeb";
}

Activation falcon_activation(const ConfigFields& f) {
  const char* key = f.get("hidden_act") != nullptr ? "hidden_act" : "activation";
  const std::string act = f.string_or(key, "gelu");
  if (act == "gelu") return Activation::GeluErf;  // nn.GELU(): exact
  if (act == "relu") return Activation::Relu;     // ReLU-fied Falcon: runs sparse
  f.bad(key, "'" + act + "' is not supported for Falcon (gelu, relu)");
}

}  // namespace

void rope_scaling_read(const ConfigFields& f, ModelConfig& c) {
  const json* rs = f.get("rope_scaling");
  if (rs == nullptr) return;
  if (!rs->is_object()) f.bad("rope_scaling", "must be an object, got " + rs->dump());
  const ConfigFields s{*rs, f.path};
  const std::string type = s.string_or("rope_type", s.string_or("type", ""));
  if (type != "llama3") {
    f.bad("rope_scaling", "type '" + type + "' is not supported (llama3 only): " + rs->dump());
  }
  const double factor = s.number_or("factor", 0);
  const double low = s.number_or("low_freq_factor", 0);
  const double high = s.number_or("high_freq_factor", 0);
  const int original = s.integer_or("original_max_position_embeddings", 0);
  if (factor <= 0 || low <= 0 || high <= low || original <= 0) {
    f.bad("rope_scaling", "llama3 needs factor, low_freq_factor < high_freq_factor and "
                          "original_max_position_embeddings: " + rs->dump());
  }
  c.rope_freq_factors = rope_llama3_factors(c.head_dim, c.rope_theta, factor, low, high, original);
}

ModelConfig qwen2_config(const ConfigFields& f) {
  ModelConfig c = llama_config(f);
  c.arch = Arch::Qwen2;
  if (f.boolean_or("use_sliding_window", false)) {
    const int window = f.integer("sliding_window");
    if (window < c.max_seq_len) c.max_seq_len = window;
  }
  return c;
}

void qwen2_weights(const HfTensors& t, Model& m) {
  llama_weights(t, m);
  const ModelConfig& c = m.config;
  const int64_t q_dim = int64_t{c.n_heads} * c.head_dim, kv_dim = int64_t{c.n_kv_heads} * c.head_dim;
  for (int i = 0; i < c.n_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".self_attn.";
    LayerWeights& l = m.weights.layers[static_cast<size_t>(i)];
    l.bq = t.vector(p + "q_proj.bias", q_dim);
    l.bk = t.vector(p + "k_proj.bias", kv_dim);
    l.bv = t.vector(p + "v_proj.bias", kv_dim);
  }
}

ModelConfig phi3_config(const ConfigFields& f) {
  const json* rs = f.get("rope_scaling");
  if (rs != nullptr) {
    f.bad("rope_scaling", "is not supported for Phi-3 (longrope / su short_factor and "
                          "long_factor): " + rs->dump());
  }
  if (f.get("partial_rotary_factor") != nullptr && f.number_or("partial_rotary_factor", 1) != 1) {
    f.bad("partial_rotary_factor", "< 1 (partial rotary embeddings) is not supported");
  }
  ModelConfig c = llama_config(f);
  c.arch = Arch::Phi3;
  const int window = f.integer_or("sliding_window", c.max_seq_len);
  if (window < c.max_seq_len) c.max_seq_len = window;  // exact attention up to the window
  return c;
}

ModelConfig falcon_config(const ConfigFields& f) {
  ModelConfig c;
  c.arch = Arch::Falcon;
  auto alias = [&f](const char* key, const char* old) { return f.get(key) ? key : old; };
  c.dim = f.integer(alias("hidden_size", "n_embed"));
  c.n_heads = f.integer(alias("num_attention_heads", "n_head"));
  c.n_layers = f.integer(alias("num_hidden_layers", "n_layer"));
  c.vocab_size = f.integer("vocab_size");
  if (c.dim % c.n_heads != 0) f.bad("hidden_size", "is not a multiple of num_attention_heads");
  c.head_dim = c.dim / c.n_heads;
  if (f.boolean_or("alibi", false)) f.bad("alibi", "= true (ALiBi positions) is not supported");
  if (f.boolean_or("bias", false)) f.bad("bias", "= true (linear biases) is not supported");
  if (falcon_new_architecture(f)) {
    c.n_kv_heads = f.integer(alias("num_kv_heads", "n_head_kv"));
  } else {
    c.n_kv_heads = f.boolean_or("multi_query", true) ? 1 : c.n_heads;
  }
  if (c.n_heads % c.n_kv_heads != 0) f.bad("num_kv_heads", "must divide num_attention_heads");
  c.ffn_dim = f.integer_or("ffn_hidden_size", 4 * c.dim);
  c.max_seq_len = f.integer_or("max_position_embeddings", 2048);
  c.norm_eps = static_cast<float>(f.number_or("layer_norm_epsilon", 1e-5));
  c.rope_theta = static_cast<float>(f.number_or("rope_theta", 10000.0));
  c.rope_style = RopeStyle::Halves;
  if (f.get("rope_scaling") != nullptr) {
    f.bad("rope_scaling", "is not supported for Falcon: " + f.get("rope_scaling")->dump());
  }
  c.activation = falcon_activation(f);
  c.ffn_gated = false;
  c.parallel_residual = f.boolean_or("parallel_attn", true) || falcon_new_architecture(f);
  c.tied_output = f.boolean_or("tie_word_embeddings", true);
  return c;
}

void falcon_weights(const HfTensors& t, Model& m, const ConfigFields& f) {
  ModelConfig& c = m.config;
  const int64_t dim = c.dim, hd = c.head_dim, ffn = c.ffn_dim;
  const int64_t group = c.n_heads / c.n_kv_heads;
  const bool new_arch = falcon_new_architecture(f);
  const bool multi_query = !new_arch && c.n_kv_heads == 1 && c.n_heads > 1;
  // Rows of query_key_value for q, k, v in head order (HF FalconAttention._split_heads).
  std::vector<int64_t> q_rows, k_rows, v_rows;
  auto head_rows = [hd](std::vector<int64_t>& out, int64_t first_row) {
    for (int64_t r = 0; r < hd; ++r) out.push_back(first_row + r);
  };
  if (new_arch) {  // per KV group: group query heads, one key, one value
    for (int64_t g = 0; g < c.n_kv_heads; ++g) {
      const int64_t base = g * (group + 2) * hd;
      for (int64_t h = 0; h < group; ++h) head_rows(q_rows, base + h * hd);
      head_rows(k_rows, base + group * hd);
      head_rows(v_rows, base + (group + 1) * hd);
    }
  } else if (multi_query) {  // all query heads, then the key, then the value
    for (int64_t h = 0; h < c.n_heads; ++h) head_rows(q_rows, h * hd);
    head_rows(k_rows, c.n_heads * hd);
    head_rows(v_rows, (c.n_heads + 1) * hd);
  } else {  // per head: query, key, value
    for (int64_t h = 0; h < c.n_heads; ++h) {
      head_rows(q_rows, 3 * h * hd);
      head_rows(k_rows, (3 * h + 1) * hd);
      head_rows(v_rows, (3 * h + 2) * hd);
    }
  }
  const int64_t qkv_rows = int64_t{c.n_heads} * hd + 2 * int64_t{c.n_kv_heads} * hd;
  ModelWeights& w = m.weights;
  w.token_embd = t.matrix("transformer.word_embeddings.weight", c.vocab_size, dim);
  w.layers.resize(static_cast<size_t>(c.n_layers));
  for (int i = 0; i < c.n_layers; ++i) {
    const std::string p = "transformer.h." + std::to_string(i) + ".";
    LayerWeights& l = w.layers[static_cast<size_t>(i)];
    const bool two_norms = t.ckpt.find(p + "ln_attn.weight") != nullptr;
    const std::string attn_ln = two_norms ? "ln_attn" : "input_layernorm";
    l.attn_norm = t.vector(p + attn_ln + ".weight", dim);
    l.attn_norm_bias = t.vector(p + attn_ln + ".bias", dim);
    if (two_norms) {
      l.ffn_norm = t.vector(p + "ln_mlp.weight", dim);
      l.ffn_norm_bias = t.vector(p + "ln_mlp.bias", dim);
    } else if (c.parallel_residual) {  // Falcon-7B: one LayerNorm feeds both
      l.ffn_norm = l.attn_norm;
      l.ffn_norm_bias = l.attn_norm_bias;
    } else {
      l.ffn_norm = t.vector(p + "post_attention_layernorm.weight", dim);
      l.ffn_norm_bias = t.vector(p + "post_attention_layernorm.bias", dim);
    }
    const Tensor qkv = t.matrix(p + "self_attention.query_key_value.weight", qkv_rows, dim);
    l.wq = rows_select(m, qkv, q_rows);
    l.wk = rows_select(m, qkv, k_rows);
    l.wv = rows_select(m, qkv, v_rows);
    l.wo = t.matrix(p + "self_attention.dense.weight", dim, dim);
    l.ffn_up = t.matrix(p + "mlp.dense_h_to_4h.weight", ffn, dim);
    l.ffn_down = t.matrix(p + "mlp.dense_4h_to_h.weight", dim, ffn);
  }
  w.output_norm = t.vector("transformer.ln_f.weight", dim);
  w.output_norm_bias = t.vector("transformer.ln_f.bias", dim);
  // A checkpoint that stores lm_head uses it (Falcon ties it to the embedding otherwise).
  c.tied_output = t.ckpt.find("lm_head.weight") == nullptr;
  w.output = c.tied_output ? w.token_embd : t.matrix("lm_head.weight", c.vocab_size, dim);
}

}  // namespace flashchat::hf
