// model_config.h - the shape and flavour of a decoder-only transformer, independent of the file
// format it came from.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace flashchat {

enum class Arch : uint8_t {
  Llama,   // RMSNorm, RoPE, GQA, gated FFN, no biases (Llama 1-3, Mistral, ReluLLaMA, ...)
  Opt,     // LayerNorm with bias, learned positions (offset 2), ReLU fc1/fc2 with biases
  Qwen2,   // Llama plus q/k/v projection biases
  Phi3,    // Llama with fused qkv and gate_up projections (split at load)
  Falcon,  // LayerNorm with bias, parallel attention + MLP, MQA/GQA, ungated GELU FFN, RoPE
};

// "llama", "opt", "qwen2", "phi3", "falcon".
const char* arch_name(Arch a);

// FFN activation. Gated FFNs compute down(act(gate x) * up x); dReLU computes
// down(relu(gate x) * relu(up x)); ungated (OPT) computes down(act(up x + b1)) + b2.
// Gelu is the tanh approximation; GeluErf the exact x * Phi(x) (Falcon's nn.GELU()).
enum class Activation : uint8_t { Silu, Gelu, Relu, Relu2, DRelu, GeluErf };

// How RoPE pairs the dimensions of a head: Interleaved rotates (x0,x1),(x2,x3),... (Meta's
// original layout, llama.cpp GGUF); Halves rotates (x_i, x_{i+d/2}) (Hugging Face layout).
enum class RopeStyle : uint8_t { None, Interleaved, Halves };

struct ModelConfig {
  Arch arch = Arch::Llama;
  std::string name;          // human-readable, e.g. general.name
  int dim = 0;               // hidden size
  int n_layers = 0;
  int n_heads = 0;
  int n_kv_heads = 0;        // == n_heads without GQA
  int head_dim = 0;          // usually dim / n_heads
  int ffn_dim = 0;           // FFN neurons per layer
  int vocab_size = 0;
  int max_seq_len = 0;       // context length the model was trained for
  float norm_eps = 1e-5f;
  float rope_theta = 10000.0f;
  RopeStyle rope_style = RopeStyle::Interleaved;
  Activation activation = Activation::Silu;
  bool ffn_gated = true;     // false for OPT
  bool tied_output = false;  // output head shares token_embd
  int pos_offset = 0;        // OPT: 2 (learned position table starts at index 2)
  bool has_biases = false;   // attention / FFN / norm biases present (OPT)
  // Falcon: attention and FFN both read the residual before the layer (x += attn + ffn); the
  // FFN input is ffn_norm(x) (the same LayerNorm as attn_norm for Falcon-7B).
  bool parallel_residual = false;
  // Llama 3 RoPE scaling: per rotary pair j (head_dim/2 values), the frequency is divided by
  // rope_freq_factors[j] (GGUF rope_freqs.weight; computed from config.json rope_scaling).
  // Empty: plain RoPE.
  std::vector<float> rope_freq_factors;

  const char* arch_name() const { return flashchat::arch_name(arch); }
  // LayerNorm (mean and variance, optional bias) rather than RMSNorm.
  bool layer_norm() const { return arch == Arch::Opt || arch == Arch::Falcon; }
};

const char* activation_name(Activation a);  // "silu", "gelu", ..., "gelu_erf"

}  // namespace flashchat
