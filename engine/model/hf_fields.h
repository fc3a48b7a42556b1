// hf_fields.h - shared by the Hugging Face loaders (model_load_hf.cc, model_load_hf_arch.cc):
// typed config.json access and safetensors lookup with shape checks. Internal to engine/model.
#pragma once

#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/shape_string.h"
#include "formats/safetensors.h"
#include "model/model.h"
#include "model/weight_import.h"

namespace flashchat::hf {

using json = nlohmann::json;

// Typed access to config.json fields; every error names the file and the field. A field that
// is present but null counts as absent.
struct ConfigFields {
  const json& j;
  std::string path;

  const json* get(const char* key) const {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return nullptr;
    return &*it;
  }
  [[noreturn]] void bad(const char* key, const std::string& problem) const {
    fail(path, std::string("field '") + key + "' " + problem);
  }
  int integer(const char* key) const {
    const json* v = get(key);
    if (v == nullptr) bad(key, "is missing");
    return integer_value(key, *v);
  }
  int integer_or(const char* key, int def) const {
    const json* v = get(key);
    return v == nullptr ? def : integer_value(key, *v);
  }
  int integer_value(const char* key, const json& v) const {
    if (!v.is_number_integer()) bad(key, "must be an integer, got " + v.dump());
    int64_t x = v.get<int64_t>();
    if (x <= 0 || x > std::numeric_limits<int32_t>::max()) {
      bad(key, "must be a positive integer, got " + v.dump());
    }
    return static_cast<int>(x);
  }
  double number_or(const char* key, double def) const {
    const json* v = get(key);
    if (v == nullptr) return def;
    if (!v->is_number()) bad(key, "must be a number, got " + v->dump());
    double x = v->get<double>();
    if (!(x > 0.0) || x > 1e30) bad(key, "must be a positive number, got " + v->dump());
    return x;
  }
  bool boolean_or(const char* key, bool def) const {
    const json* v = get(key);
    if (v == nullptr) return def;
    if (!v->is_boolean()) bad(key, "must be true or false, got " + v->dump());
    return v->get<bool>();
  }
  std::string string_or(const char* key, const std::string& def) const {
    const json* v = get(key);
    if (v == nullptr) return def;
    if (!v->is_string()) bad(key, "must be a string, got " + v->dump());
    return v->get<std::string>();
  }
  bool has_architecture(const std::string& name) const {
    const json* v = get("architectures");
    if (v == nullptr || !v->is_array()) return false;
    for (const json& a : *v) {
      if (a.is_string() && a.get<std::string>() == name) return true;
    }
    return false;
  }
};

// Tensor lookup with shape checks; errors name the shard (or the weights file) and the tensor.
struct HfTensors {
  const SafetensorsCheckpoint& ckpt;
  Model& model;
  std::string weights_path;  // model.safetensors or the index, for "missing tensor" errors

  const SafetensorsTensor& get(const std::string& name) const {
    const SafetensorsTensor* t = ckpt.find(name);
    if (t == nullptr) fail(weights_path, "missing tensor '" + name + "'");
    return *t;
  }
  void check_shape(const SafetensorsTensor& t, const std::vector<int64_t>& want) const {
    if (t.shape != want) {
      fail(t.file.empty() ? weights_path : t.file, "tensor " + t.name + " has shape " +
                                                       shape_string(t.shape) + ", expected " +
                                                       shape_string(want));
    }
  }
  // (rows, cols) matrix, kept in its stored dtype.
  Tensor matrix(const std::string& name, int64_t rows, int64_t cols) const {
    const SafetensorsTensor& t = get(name);
    check_shape(t, {rows, cols});
    return weight_import_matrix(model, t.dtype, t.data, rows, cols);
  }
  // (n,) vector converted to owned F32.
  Tensor vector(const std::string& name, int64_t n) const {
    const SafetensorsTensor& t = get(name);
    check_shape(t, {n});
    return weight_import_vector(model, t.dtype, t.data, n);
  }
  // An owned F32 vector of n copies of `value` (OPT without elementwise-affine LayerNorm).
  Tensor constant(int64_t n, float value) const {
    std::vector<float> v(static_cast<size_t>(n), value);
    return weight_import_vector(model, DType::F32, v.data(), n);
  }
};

ModelConfig llama_config(const ConfigFields& f);
// Llama-layout tensors (model.layers.N.self_attn / mlp); Phi-3's fused qkv_proj and
// gate_up_proj are split into row views.
void llama_weights(const HfTensors& t, Model& m);

// Qwen2 (q/k/v biases), Phi-3 (fused qkv / gate_up) and Falcon; each throws Error naming
// config.json and the field for what it does not support (model_load_hf_arch.cc).
ModelConfig qwen2_config(const ConfigFields& f);
ModelConfig phi3_config(const ConfigFields& f);
ModelConfig falcon_config(const ConfigFields& f);
void qwen2_weights(const HfTensors& t, Model& m);
void falcon_weights(const HfTensors& t, Model& m, const ConfigFields& f);

// Llama 3 RoPE scaling (config.json rope_scaling with rope_type "llama3") -> c.rope_freq_factors;
// other rope_scaling types are refused naming the field. Nothing when rope_scaling is absent.
void rope_scaling_read(const ConfigFields& f, ModelConfig& c);

}  // namespace flashchat::hf
