// model_load_hf.cc - a Model from a Hugging Face checkpoint directory: config.json,
// model.safetensors (or shards named by model.safetensors.index.json), tokenizer.json and
// optionally tokenizer_config.json (chat_template).
//
// Supported: Llama-family checkpoints (model_type "llama" / "mistral", or architectures
// LlamaForCausalLM / MistralForCausalLM; Llama 3's rope_scaling "llama3") with HF's
// rotate-half RoPE layout (RopeStyle::Halves), pre-LayerNorm OPT (model_type "opt"), and Qwen2,
// Phi-3 and Falcon (model_load_hf_arch.cc). Unsupported variants (other rope scaling, attention
// biases on Llama, post-LN OPT, OPT-350m's embedding projections, ...) are rejected with a
// message naming config.json and the field, never loaded half-right.
//
// Matrices keep their stored dtype and point into the safetensors maps (kept in
// Model::storage); 1-D tensors are converted to owned F32. Every tensor's shape is checked
// against the config.

#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/read_file.h"
#include "core/shape_string.h"
#include "formats/safetensors.h"
#include "model/hf_fields.h"
#include "model/model.h"
#include "model/tokenizer_json.h"
#include "model/weight_import.h"

namespace flashchat {
namespace hf {

namespace fs = std::filesystem;

json json_read_file(const std::string& path) {
  json j = file_read_json(path);
  if (!j.is_object()) fail(path, "expected a JSON object at the top level");
  return j;
}

Activation llama_activation(const ConfigFields& f) {
  std::string act = f.string_or("hidden_act", "silu");
  if (act == "silu" || act == "swish") return Activation::Silu;
  if (act == "relu") return Activation::Relu;
  if (act == "relu2" || act == "relu_squared") return Activation::Relu2;
  if (act == "gelu" || act == "gelu_pytorch_tanh" || act == "gelu_new") return Activation::Gelu;
  if (act == "drelu") return Activation::DRelu;
  f.bad("hidden_act", "'" + act + "' is not supported (silu, relu, relu2, gelu, drelu)");
}

ModelConfig llama_config(const ConfigFields& f) {
  ModelConfig c;
  c.arch = Arch::Llama;
  c.dim = f.integer("hidden_size");
  c.ffn_dim = f.integer("intermediate_size");
  c.n_layers = f.integer("num_hidden_layers");
  c.n_heads = f.integer("num_attention_heads");
  c.n_kv_heads = f.integer_or("num_key_value_heads", c.n_heads);
  if (c.n_heads % c.n_kv_heads != 0) {
    f.bad("num_key_value_heads", "(" + std::to_string(c.n_kv_heads) +
                                     ") must divide num_attention_heads (" +
                                     std::to_string(c.n_heads) + ")");
  }
  if (f.get("head_dim") == nullptr && c.dim % c.n_heads != 0) {
    f.bad("hidden_size", "(" + std::to_string(c.dim) +
                             ") is not a multiple of num_attention_heads (" +
                             std::to_string(c.n_heads) + ") and head_dim is not given");
  }
  c.head_dim = f.integer_or("head_dim", c.dim / c.n_heads);
  if (c.head_dim % 2 != 0) f.bad("head_dim", "must be even for RoPE");
  c.norm_eps = static_cast<float>(f.number_or("rms_norm_eps", 1e-6));
  c.rope_theta = static_cast<float>(f.number_or("rope_theta", 10000.0));
  c.rope_style = RopeStyle::Halves;
  c.max_seq_len = f.integer_or("max_position_embeddings", 2048);
  c.vocab_size = f.integer("vocab_size");
  c.tied_output = f.boolean_or("tie_word_embeddings", false);
  c.activation = llama_activation(f);
  c.ffn_gated = true;
  c.pos_offset = 0;
  c.has_biases = false;
  rope_scaling_read(f, c);
  if (f.boolean_or("attention_bias", false)) f.bad("attention_bias", "= true is not supported");
  if (f.boolean_or("mlp_bias", false)) f.bad("mlp_bias", "= true is not supported");
  return c;
}

ModelConfig opt_config(const ConfigFields& f) {
  ModelConfig c;
  c.arch = Arch::Opt;
  c.dim = f.integer("hidden_size");
  c.ffn_dim = f.integer("ffn_dim");
  c.n_layers = f.integer("num_hidden_layers");
  c.n_heads = f.integer("num_attention_heads");
  if (c.dim % c.n_heads != 0) {
    f.bad("hidden_size", "(" + std::to_string(c.dim) +
                             ") is not a multiple of num_attention_heads (" +
                             std::to_string(c.n_heads) + ")");
  }
  c.n_kv_heads = c.n_heads;
  c.head_dim = c.dim / c.n_heads;
  c.max_seq_len = f.integer_or("max_position_embeddings", 2048);
  c.vocab_size = f.integer("vocab_size");
  c.norm_eps = 1e-5f;
  c.rope_style = RopeStyle::None;
  c.ffn_gated = false;
  c.pos_offset = 2;
  std::string act = f.string_or("activation_function", "relu");
  if (act != "relu") f.bad("activation_function", "'" + act + "' is not supported for OPT (relu)");
  c.activation = Activation::Relu;
  if (!f.boolean_or("do_layer_norm_before", true)) {
    f.bad("do_layer_norm_before", "= false (post-LayerNorm OPT, e.g. opt-350m) is unsupported");
  }
  int proj_dim = f.integer_or("word_embed_proj_dim", c.dim);
  if (proj_dim != c.dim) {
    f.bad("word_embed_proj_dim", "(" + std::to_string(proj_dim) + ") differs from hidden_size (" +
                                     std::to_string(c.dim) +
                                     "): OPT-350m style embedding projections are unsupported");
  }
  c.has_biases = f.boolean_or("enable_bias", true);
  return c;
}

void llama_weights(const HfTensors& t, Model& m) {
  const ModelConfig& c = m.config;
  const bool fused = c.arch == Arch::Phi3;
  const int64_t dim = c.dim, q_dim = int64_t{c.n_heads} * c.head_dim,
                kv_dim = int64_t{c.n_kv_heads} * c.head_dim, ffn = c.ffn_dim;
  ModelWeights& w = m.weights;
  w.token_embd = t.matrix("model.embed_tokens.weight", c.vocab_size, dim);
  w.layers.resize(static_cast<size_t>(c.n_layers));
  for (int i = 0; i < c.n_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    LayerWeights& l = w.layers[static_cast<size_t>(i)];
    l.attn_norm = t.vector(p + "input_layernorm.weight", dim);
    if (fused) {  // Phi-3: qkv_proj = [q; k; v] rows, gate_up_proj = [gate; up] rows
      const Tensor qkv = t.matrix(p + "self_attn.qkv_proj.weight", q_dim + 2 * kv_dim, dim);
      l.wq = weight_rows_view(qkv, 0, q_dim);
      l.wk = weight_rows_view(qkv, q_dim, kv_dim);
      l.wv = weight_rows_view(qkv, q_dim + kv_dim, kv_dim);
      const Tensor gate_up = t.matrix(p + "mlp.gate_up_proj.weight", 2 * ffn, dim);
      l.ffn_gate = weight_rows_view(gate_up, 0, ffn);
      l.ffn_up = weight_rows_view(gate_up, ffn, ffn);
    } else {
      l.wq = t.matrix(p + "self_attn.q_proj.weight", q_dim, dim);
      l.wk = t.matrix(p + "self_attn.k_proj.weight", kv_dim, dim);
      l.wv = t.matrix(p + "self_attn.v_proj.weight", kv_dim, dim);
      l.ffn_gate = t.matrix(p + "mlp.gate_proj.weight", ffn, dim);
      l.ffn_up = t.matrix(p + "mlp.up_proj.weight", ffn, dim);
    }
    l.wo = t.matrix(p + "self_attn.o_proj.weight", dim, q_dim);
    l.ffn_norm = t.vector(p + "post_attention_layernorm.weight", dim);
    l.ffn_down = t.matrix(p + "mlp.down_proj.weight", dim, ffn);
  }
  w.output_norm = t.vector("model.norm.weight", dim);
  w.output = c.tied_output ? w.token_embd : t.matrix("lm_head.weight", c.vocab_size, dim);
}

// ln_affine: config layer_norm_elementwise_affine (false: LayerNorms have no weight/bias).
void opt_weights(const HfTensors& t, Model& m, bool ln_affine) {
  ModelConfig& c = m.config;
  const int64_t dim = c.dim, ffn = c.ffn_dim;
  const bool biases = c.has_biases;
  // Checkpoints saved from OPTForCausalLM use "model.decoder.", from OPTModel "decoder.".
  std::string p = "model.decoder.";
  if (t.ckpt.find(p + "embed_tokens.weight") == nullptr &&
      t.ckpt.find("decoder.embed_tokens.weight") != nullptr) {
    p = "decoder.";
  }
  auto norm_pair = [&](const std::string& name, Tensor& wt, Tensor& bt) {
    if (ln_affine) {
      wt = t.vector(name + ".weight", dim);
      bt = t.vector(name + ".bias", dim);
    } else {
      wt = t.constant(dim, 1.0f);
      bt = t.constant(dim, 0.0f);
    }
  };
  ModelWeights& w = m.weights;
  w.token_embd = t.matrix(p + "embed_tokens.weight", c.vocab_size, dim);
  w.pos_embd = t.matrix(p + "embed_positions.weight", int64_t{c.max_seq_len} + c.pos_offset, dim);
  w.layers.resize(static_cast<size_t>(c.n_layers));
  for (int i = 0; i < c.n_layers; ++i) {
    const std::string lp = p + "layers." + std::to_string(i) + ".";
    LayerWeights& l = w.layers[static_cast<size_t>(i)];
    norm_pair(lp + "self_attn_layer_norm", l.attn_norm, l.attn_norm_bias);
    l.wq = t.matrix(lp + "self_attn.q_proj.weight", dim, dim);
    l.wk = t.matrix(lp + "self_attn.k_proj.weight", dim, dim);
    l.wv = t.matrix(lp + "self_attn.v_proj.weight", dim, dim);
    l.wo = t.matrix(lp + "self_attn.out_proj.weight", dim, dim);
    if (biases) {
      l.bq = t.vector(lp + "self_attn.q_proj.bias", dim);
      l.bk = t.vector(lp + "self_attn.k_proj.bias", dim);
      l.bv = t.vector(lp + "self_attn.v_proj.bias", dim);
      l.bo = t.vector(lp + "self_attn.out_proj.bias", dim);
    }
    norm_pair(lp + "final_layer_norm", l.ffn_norm, l.ffn_norm_bias);
    l.ffn_up = t.matrix(lp + "fc1.weight", ffn, dim);
    l.ffn_down = t.matrix(lp + "fc2.weight", dim, ffn);
    if (biases) {
      l.ffn_up_bias = t.vector(lp + "fc1.bias", ffn);
      l.ffn_down_bias = t.vector(lp + "fc2.bias", dim);
    }
  }
  norm_pair(p + "final_layer_norm", w.output_norm, w.output_norm_bias);
  // OPT ties lm_head to the token embedding; a checkpoint that stores lm_head uses it.
  if (t.ckpt.find("lm_head.weight") != nullptr) {
    w.output = t.matrix("lm_head.weight", c.vocab_size, dim);
    c.tied_output = false;
  } else {
    w.output = w.token_embd;
    c.tied_output = true;
  }
}

// The chat template of tokenizer_config.json: a string, or a list of {"name", "template"}
// (the one named "default", else the first). Empty when absent.
std::string chat_template_read(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return {};
  json j = json_read_file(path);
  auto it = j.find("chat_template");
  if (it == j.end() || it->is_null()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_array()) {
    std::string first;
    for (const json& e : *it) {
      if (!e.is_object() || !e.contains("template") || !e["template"].is_string()) continue;
      std::string name = e.value("name", std::string());
      if (name == "default") return e["template"].get<std::string>();
      if (first.empty()) first = e["template"].get<std::string>();
    }
    return first;
  }
  fail(path, "field 'chat_template' must be a string or a list of {name, template}");
}

}  // namespace hf

std::unique_ptr<Model> model_load_hf(const std::string& dir) {
  using namespace hf;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) fail(dir, "not a directory");
  const std::string config_path = dir + "/config.json";
  const json j = json_read_file(config_path);
  const ConfigFields f{j, config_path};

  auto model = std::make_unique<Model>();
  model->source_path = dir;
  model->source_format = "safetensors";
  const std::string model_type = f.string_or("model_type", "");
  bool is_llama = model_type == "llama" || model_type == "mistral" ||
                  f.has_architecture("LlamaForCausalLM") ||
                  f.has_architecture("MistralForCausalLM");
  bool is_opt = model_type == "opt" || f.has_architecture("OPTForCausalLM");
  bool is_qwen2 = model_type == "qwen2" || f.has_architecture("Qwen2ForCausalLM");
  bool is_phi3 = model_type == "phi3" || f.has_architecture("Phi3ForCausalLM");
  bool is_falcon = model_type == "falcon" || model_type == "RefinedWeb" ||
                   model_type == "RefinedWebModel" || f.has_architecture("FalconForCausalLM");
  if (is_llama) {
    model->config = llama_config(f);
  } else if (is_opt) {
    model->config = opt_config(f);
  } else if (is_qwen2) {
    model->config = qwen2_config(f);
  } else if (is_phi3) {
    model->config = phi3_config(f);
  } else if (is_falcon) {
    model->config = falcon_config(f);
  } else {
    fail(config_path, "unsupported model_type '" + model_type +
                          "' (supported: llama, mistral, qwen2, phi3, falcon, opt)");
  }
  std::string name = f.string_or("_name_or_path", "");
  if (name.empty()) {
    fs::path p = fs::path(dir).lexically_normal();
    name = p.has_filename() ? p.filename().string() : p.parent_path().filename().string();
  }
  model->config.name = name;

  const bool sharded = fs::exists(dir + "/model.safetensors.index.json", ec);
  const std::string weights_path =
      dir + (sharded ? "/model.safetensors.index.json" : "/model.safetensors");
  if (!sharded && !fs::exists(weights_path, ec)) {
    fail(dir, fs::exists(dir + "/pytorch_model.bin", ec)
                  ? "only PyTorch .bin weights found; safetensors (model.safetensors) required"
                  : "no model.safetensors or model.safetensors.index.json");
  }
  SafetensorsCheckpoint ckpt = SafetensorsCheckpoint::open_dir(dir);
  for (const auto& m : ckpt.mappings()) model->storage.push_back(m);

  HfTensors tensors{ckpt, *model, weights_path};
  switch (model->config.arch) {
    case Arch::Llama:
    case Arch::Phi3:
      llama_weights(tensors, *model);
      break;
    case Arch::Opt:
      opt_weights(tensors, *model, f.boolean_or("layer_norm_elementwise_affine", true));
      break;
    case Arch::Qwen2:
      qwen2_weights(tensors, *model);
      break;
    case Arch::Falcon:
      falcon_weights(tensors, *model, f);
      break;
  }

  const std::string tokenizer_path = dir + "/tokenizer.json";
  if (!fs::exists(tokenizer_path, ec)) {
    fail(tokenizer_path, "missing (a Hugging Face model directory needs tokenizer.json)");
  }
  model->tokenizer = tokenizer_spec_from_hf_json(tokenizer_path);
  if (model->tokenizer.tokens.size() > static_cast<size_t>(model->config.vocab_size)) {
    fail(tokenizer_path, "has " + std::to_string(model->tokenizer.tokens.size()) +
                             " tokens but config.json vocab_size is " +
                             std::to_string(model->config.vocab_size));
  }
  model->chat_template = chat_template_read(dir + "/tokenizer_config.json");
  return model;
}

}  // namespace flashchat
