// transformer_batch.cc - the block (prompt) forward pass: a block of tokens through every layer
// with matrix-matrix projections (compute/matmul.h), per-token norms, RoPE and causal attention
// over the cache, and the FFN backend's batch path. Only the last token's logits are computed.
// Also the recording of FFN inputs (one row per token of a forward or a block).
#include <algorithm>
#include <cstring>
#include <string>

#include "compute/matmul.h"
#include "compute/matvec.h"
#include "core/error.h"
#include "model/transformer.h"

namespace flashchat {
namespace {

// Where errors come from: the model's file, or "transformer".
std::string source_name(const Model& model) {
  return model.source_path.empty() ? std::string("transformer") : model.source_path;
}

// Y (n, width) row-major: every row += b (width,) (nothing when b is empty).
void rows_add_bias(const Tensor& b, float* Y, int n, int64_t width) {
  if (b.empty()) return;
  const float* bias = b.f32();
  for (int t = 0; t < n; ++t) {
    float* y = Y + static_cast<int64_t>(t) * width;
    for (int64_t i = 0; i < width; ++i) y[i] += bias[i];
  }
}

}  // namespace

void FfnBackend::ffn_forward_batch(int layer, const float* x, int n, float* out) {
  const int64_t dim = model_dim();
  if (dim <= 0) fail("ffn", "ffn_forward_batch: the model dim is not set (set_model_dim)");
  for (int t = 0; t < n; ++t) ffn_forward(layer, x + t * dim, out + t * dim);
}

void Transformer::set_record_ffn_inputs(bool on) {
  record_ffn_inputs_ = on;
  ffn_inputs_rows_ = 0;
  if (on) {
    ffn_inputs_.assign(static_cast<size_t>(cfg_.n_layers),
                       std::vector<float>(static_cast<size_t>(cfg_.dim)));
  } else {
    ffn_inputs_.clear();
  }
}

const float* Transformer::ffn_input(int layer) const {
  if (!record_ffn_inputs_) {
    fail(source_name(model_), "ffn_input: recording is off (call set_record_ffn_inputs(true))");
  }
  if (layer < 0 || layer >= cfg_.n_layers) {
    fail(source_name(model_), "ffn_input: layer " + std::to_string(layer) + " out of range");
  }
  return ffn_inputs_[static_cast<size_t>(layer)].data();
}

// Copies the FFN inputs (n, dim) of `layer` when recording.
void Transformer::ffn_inputs_record(int layer, const float* x, int n) {
  if (!record_ffn_inputs_) return;
  std::vector<float>& dst = ffn_inputs_[static_cast<size_t>(layer)];
  const size_t count = static_cast<size_t>(n) * static_cast<size_t>(cfg_.dim);
  if (dst.size() < count) dst.resize(count);
  std::memcpy(dst.data(), x, count * sizeof(float));
  ffn_inputs_rows_ = n;
}

void Transformer::reserve_batch(int n) {
  if (n <= batch_capacity_) return;
  const size_t rows = static_cast<size_t>(n);
  const size_t dim = static_cast<size_t>(cfg_.dim);
  const size_t q_dim = static_cast<size_t>(cfg_.n_heads) * static_cast<size_t>(cfg_.head_dim);
  const size_t kv_dim = static_cast<size_t>(cfg_.n_kv_heads) * static_cast<size_t>(cfg_.head_dim);
  batch_.x.resize(rows * dim);
  batch_.xb.resize(rows * std::max(dim, q_dim));
  batch_.xb2.resize(rows * dim);
  batch_.q.resize(rows * q_dim);
  batch_.k.resize(rows * kv_dim);
  batch_.v.resize(rows * kv_dim);
  batch_.ffn_out.resize(rows * dim);
  batch_capacity_ = n;
}

const float* Transformer::forward_batch(const int* tokens, int n, int pos0) {
  if (tokens == nullptr) fail("transformer", "forward_batch: no tokens");
  positions_prepare(tokens, n, pos0);
  reserve_batch(n);
  const ModelWeights& w = model_.weights;
  const int64_t dim = cfg_.dim;
  const int64_t q_dim = int64_t{cfg_.n_heads} * cfg_.head_dim;
  const int64_t kv_dim = int64_t{cfg_.n_kv_heads} * cfg_.head_dim;
  float* X = batch_.x.data();
  float* XB = batch_.xb.data();
  float* XB2 = batch_.xb2.data();
  float* Q = batch_.q.data();
  float* K = batch_.k.data();
  float* V = batch_.v.data();
  for (int t = 0; t < n; ++t) embed(tokens[t], pos0 + t, X + t * dim);

  for (int l = 0; l < cfg_.n_layers; ++l) {
    const LayerWeights& L = w.layers[static_cast<size_t>(l)];
    float* FFN_OUT = batch_.ffn_out.data();
    if (cfg_.parallel_residual) {
      // Falcon: the FFN of the residual before attention (XB2 is free until wo).
      for (int t = 0; t < n; ++t) norm(L.ffn_norm, L.ffn_norm_bias, X + t * dim, XB2 + t * dim);
      ffn_inputs_record(l, XB2, n);
      ffn_->ffn_forward_batch(l, XB2, n, FFN_OUT);
    }
    for (int t = 0; t < n; ++t) norm(L.attn_norm, L.attn_norm_bias, X + t * dim, XB + t * dim);
    // wq (q_dim, dim) @ XB (n, dim)^T -> Q (n, q_dim); wk/wv -> K, V (n, kv_dim)
    matmul(L.wq, XB, n, Q);
    matmul(L.wk, XB, n, K);
    matmul(L.wv, XB, n, V);
    // Every position's KV row is in the cache before any token of the block attends.
    for (int t = 0; t < n; ++t) qkv_finish(l, pos0 + t, Q + t * q_dim, K + t * kv_dim, V + t * kv_dim);

    // Q (n, q_dim) -> XB (n, q_dim): token t over positions [0, pos0 + t]
    attention(l, pos0, n, Q, XB);
    // wo (dim, q_dim) @ XB (n, q_dim)^T -> XB2 (n, dim)
    matmul(L.wo, XB, n, XB2);
    rows_add_bias(L.bo, XB2, n, dim);
    for (int64_t i = 0; i < n * dim; ++i) X[i] += XB2[i];

    if (!cfg_.parallel_residual) {
      for (int t = 0; t < n; ++t) norm(L.ffn_norm, L.ffn_norm_bias, X + t * dim, XB + t * dim);
      ffn_inputs_record(l, XB, n);
      ffn_->ffn_forward_batch(l, XB, n, FFN_OUT);
    }
    for (int64_t i = 0; i < n * dim; ++i) X[i] += FFN_OUT[i];
  }
  return logits_finish(X + (n - 1) * dim, pos0 + n - 1);
}

}  // namespace flashchat
