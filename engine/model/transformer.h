// transformer.h - the dense forward pass of one token through a decoder-only transformer
// (llama family and OPT), with its KV cache.
//
// The FFN of each layer is delegated to an FfnBackend so that the flash engine can replace the
// dense FFN (all weights in DRAM) with a sparse one (predicted neurons, streamed from flash)
// without touching attention. The dense backend is the reference every sparse path is checked
// against.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "model/model.h"

namespace flashchat {

// Computes one layer's FFN for one token.
class FfnBackend {
 public:
  virtual ~FfnBackend() = default;
  // x: the FFN input (dim,), already normalised (ffn_norm applied). out: (dim,), overwritten
  // with the FFN output (including OPT's fc2 bias); the caller adds it to the residual.
  virtual void ffn_forward(int layer, const float* x, float* out) = 0;
};

// All FFN weights resident: out = down(act(gate x) * (up x)) (or OPT's fc2(relu(fc1 x + b1)) + b2).
class DenseFfn : public FfnBackend {
 public:
  explicit DenseFfn(const Model& model);
  void ffn_forward(int layer, const float* x, float* out) override;

  // The FFN's hidden activations (ffn_dim,) of the last ffn_forward call, i.e. the values the
  // down projection multiplies; what predictors are trained on and oracles read.
  const std::vector<float>& last_hidden() const { return hidden_; }

 private:
  const Model& model_;
  std::vector<float> gate_, hidden_;
};

// Applies the FFN activation element-wise: hidden[i] = act(gate[i]) * up[i] for gated models
// (dReLU: relu(gate)*relu(up)), hidden[i] = act(up[i]) for ungated ones (gate == nullptr).
void ffn_activate(const ModelConfig& config, const float* gate, const float* up, float* hidden,
                  int64_t n);

class Transformer {
 public:
  // max_context: positions the KV cache holds (<= model max_seq_len; throws Error otherwise,
  // or when <= 0). ffn: nullptr = an internal DenseFfn.
  Transformer(const Model& model, int max_context, FfnBackend* ffn = nullptr);
  ~Transformer();

  // Runs `token` at position `pos` (0 <= pos < max_context; positions must be fed in order,
  // pos == tokens already cached) and returns the logits (vocab_size,), valid until the next
  // call. Throws Error when pos is out of range.
  const float* forward(int token, int pos);

  // Replaces the FFN backend (nullptr = back to dense). Takes effect at the next forward.
  void set_ffn_backend(FfnBackend* ffn);
  FfnBackend* ffn_backend() const { return ffn_; }

  // The FFN input of `layer` at the last forward (dim,), for predictors / calibration.
  const float* ffn_input(int layer) const;
  // Keeps ffn_input() for every layer when true (costs n_layers*dim floats).
  void set_record_ffn_inputs(bool on);

  const Model& model() const { return model_; }
  int max_context() const { return max_context_; }
  int64_t kv_cache_bytes() const;

 private:
  void attention(int layer, int pos);
  void norm(const Tensor& w, const Tensor& b, const float* in, float* out) const;

  const Model& model_;
  const ModelConfig& cfg_;
  int max_context_ = 0;
  std::unique_ptr<DenseFfn> dense_ffn_;
  FfnBackend* ffn_ = nullptr;

  // KV cache: per layer (max_context, n_kv_heads*head_dim) fp32, keys and values.
  std::vector<std::vector<float>> key_cache_, value_cache_;
  // Scratch activations.
  std::vector<float> x_, xb_, xb2_, q_, k_, v_, att_, logits_, ffn_out_;
  std::vector<float> rope_cos_, rope_sin_;  // (max_context, head_dim/2)
  bool record_ffn_inputs_ = false;
  std::vector<std::vector<float>> ffn_inputs_;
};

}  // namespace flashchat
