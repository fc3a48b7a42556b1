// dense_ffn.cc - the FFN activations and the dense FFN backend (every weight resident): one
// token (matvec) or a block (matmul), the reference every sparse path is checked against.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "compute/matmul.h"
#include "compute/matvec.h"
#include "core/error.h"
#include "model/transformer.h"

namespace flashchat {
namespace {

std::string ffn_source(const Model& model) {
  return model.source_path.empty() ? std::string("transformer") : model.source_path;
}

// Y (n, width) row-major: every row += b (width,) (nothing when b is empty).
void bias_rows_add(const Tensor& b, float* Y, int64_t n, int64_t width) {
  if (b.empty()) return;
  const float* bias = b.f32();
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t i = 0; i < width; ++i) Y[t * width + i] += bias[i];
  }
}

inline float silu(float x) {
  return x * (1.0f / (1.0f + std::exp(-x)));
}
inline float relu(float x) {
  return x > 0.0f ? x : 0.0f;
}
inline float gelu_tanh(float x) {
  constexpr float kSqrt2OverPi = 0.7978845608028654f;
  return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * (x + 0.044715f * x * x * x)));
}
inline float gelu_erf(float x) {
  constexpr float kInvSqrt2 = 0.70710678118654752f;
  return 0.5f * x * (1.0f + std::erf(x * kInvSqrt2));
}

// In place: v[i] = act(v[i]) (the non-gated / gate half of an activation).
inline float activate(Activation a, float x) {
  switch (a) {
    case Activation::Silu:
      return silu(x);
    case Activation::Gelu:
      return gelu_tanh(x);
    case Activation::GeluErf:
      return gelu_erf(x);
    case Activation::Relu:
    case Activation::DRelu:
      return relu(x);
    case Activation::Relu2: {
      const float r = relu(x);
      return r * r;
    }
  }
  return x;
}

}  // namespace

void ffn_activate(const ModelConfig& config, const float* gate, const float* up, float* hidden,
                  int64_t n) {
  const Activation a = config.activation;
  if (gate == nullptr) {
    for (int64_t i = 0; i < n; ++i) hidden[i] = activate(a, up[i]);
  } else if (a == Activation::DRelu) {
    for (int64_t i = 0; i < n; ++i) hidden[i] = relu(gate[i]) * relu(up[i]);
  } else if (a == Activation::Silu) {
    // llama2.c: val = gate; val *= 1/(1+expf(-val)); val *= up.
    for (int64_t i = 0; i < n; ++i) hidden[i] = silu(gate[i]) * up[i];
  } else {
    for (int64_t i = 0; i < n; ++i) hidden[i] = activate(a, gate[i]) * up[i];
  }
}

int64_t DenseFfn::scratch_bytes() const {
  int64_t bytes = 0;
  for (const std::vector<float>* v : {&gate_, &hidden_, &gate_batch_, &hidden_batch_}) {
    bytes += static_cast<int64_t>(v->capacity() * sizeof(float));
  }
  return bytes;
}

DenseFfn::DenseFfn(const Model& model)
    : model_(model),
      gate_(static_cast<size_t>(std::max(model.config.ffn_dim, 0))),
      hidden_(static_cast<size_t>(std::max(model.config.ffn_dim, 0))) {}

// x (dim,) -> hidden (ffn_dim,) -> out (dim,)
void DenseFfn::ffn_forward(int layer, const float* x, float* out) {
  const ModelConfig& c = model_.config;
  if (layer < 0 || layer >= c.n_layers) {
    fail(ffn_source(model_), "ffn_forward: layer " + std::to_string(layer) + " out of range");
  }
  const LayerWeights& L = model_.weights.layers[static_cast<size_t>(layer)];
  if (L.ffn_up.empty()) {
    fail(ffn_source(model_), "the FFN of this model is on flash: it needs a flash FFN backend");
  }
  // up (ffn_dim, dim) @ x (dim,) -> hidden (ffn_dim,)  (+ fc1 bias)
  matvec(L.ffn_up, x, hidden_.data());
  bias_rows_add(L.ffn_up_bias, hidden_.data(), 1, c.ffn_dim);
  if (c.ffn_gated) {
    // gate (ffn_dim, dim) @ x (dim,) -> gate (ffn_dim,)
    matvec(L.ffn_gate, x, gate_.data());
    ffn_activate(c, gate_.data(), hidden_.data(), hidden_.data(), c.ffn_dim);
  } else {
    ffn_activate(c, nullptr, hidden_.data(), hidden_.data(), c.ffn_dim);
  }
  // down (dim, ffn_dim) @ hidden (ffn_dim,) -> out (dim,)  (+ fc2 bias)
  matvec(L.ffn_down, hidden_.data(), out);
  bias_rows_add(L.ffn_down_bias, out, 1, c.dim);
}

// x (n, dim) -> hidden (n, ffn_dim) -> out (n, dim)
void DenseFfn::ffn_forward_batch(int layer, const float* x, int n, float* out) {
  const ModelConfig& c = model_.config;
  if (layer < 0 || layer >= c.n_layers) {
    fail("transformer", "ffn_forward_batch: layer " + std::to_string(layer) + " out of range");
  }
  const LayerWeights& L = model_.weights.layers[static_cast<size_t>(layer)];
  if (L.ffn_up.empty()) {
    fail("transformer", "the FFN of this model is on flash: it needs a flash FFN backend");
  }
  if (n <= 0) return;
  const size_t cells = static_cast<size_t>(n) * static_cast<size_t>(c.ffn_dim);
  if (hidden_batch_.size() < cells) hidden_batch_.resize(cells);
  // up (ffn_dim, dim) @ x (n, dim)^T -> hidden (n, ffn_dim)  (+ fc1 bias)
  matmul(L.ffn_up, x, n, hidden_batch_.data());
  bias_rows_add(L.ffn_up_bias, hidden_batch_.data(), n, c.ffn_dim);
  if (c.ffn_gated) {
    if (gate_batch_.size() < cells) gate_batch_.resize(cells);
    // gate (ffn_dim, dim) @ x^T -> gate (n, ffn_dim)
    matmul(L.ffn_gate, x, n, gate_batch_.data());
    ffn_activate(c, gate_batch_.data(), hidden_batch_.data(), hidden_batch_.data(),
                 static_cast<int64_t>(cells));
  } else {
    ffn_activate(c, nullptr, hidden_batch_.data(), hidden_batch_.data(),
                 static_cast<int64_t>(cells));
  }
  // down (dim, ffn_dim) @ hidden (n, ffn_dim)^T -> out (n, dim)  (+ fc2 bias)
  matmul(L.ffn_down, hidden_batch_.data(), n, out);
  bias_rows_add(L.ffn_down_bias, out, n, c.dim);
  // last_hidden(): the block's last token
  std::copy(hidden_batch_.begin() + static_cast<int64_t>(n - 1) * c.ffn_dim,
            hidden_batch_.begin() + static_cast<int64_t>(n) * c.ffn_dim, hidden_.begin());
}

}  // namespace flashchat
