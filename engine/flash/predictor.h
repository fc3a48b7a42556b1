// predictor.h - the per-layer low-rank sparsity predictor of "LLM in a Flash".
//
// Neuron i of a layer is predicted active for FFN input x (dim,) when
//   (B (A x) + bias)[i] > 0,   i.e. sigmoid(...) > 0.5,
// with A (rank, dim), B (neurons, rank) stored as IEEE half (F16) and bias (neurons,) fp32, all
// resident in DRAM (about half the bytes of fp32 factors). Training runs in fp32 and rounds A and
// B once at the end (predictor_store_f16); evaluation converts the halves inside the kernels.
#pragma once

#include <cstdint>
#include <vector>

namespace flashchat {

struct Predictor {
  int rank = 0;
  int dim = 0;
  int neurons = 0;
  std::vector<uint16_t> a;  // (rank, dim) row-major, IEEE half
  std::vector<uint16_t> b;  // (neurons, rank) row-major, IEEE half
  std::vector<float> bias;  // (neurons,) fp32
  int64_t size_bytes() const {
    return static_cast<int64_t>(a.size() + b.size()) * 2 + static_cast<int64_t>(bias.size()) * 4;
  }
};

// Sets p.a / p.b from fp32 factors a (rank, dim) and b (neurons, rank), rounded to IEEE half
// (nearest even); p.rank, p.dim and p.neurons must be set. Each rank component k is first
// rescaled by a power of two (A row k * 2^e_k, B column k * 2^-e_k: the product B A is unchanged
// exactly in fp32) so both factors sit mid-range in F16 rather than one of them near overflow or
// in the subnormals; magnitudes still beyond the F16 range saturate at +-65504 (never inf).
void predictor_store_f16(Predictor& p, const float* a, const float* b);

// The stored A (rank*dim) and B (neurons*rank) widened to fp32: exactly the values
// predictor_predict computes with.
void predictor_weights_f32(const Predictor& p, std::vector<float>& a, std::vector<float>& b);

// How well a predictor matched the true active sets on held-out calibration tokens.
struct PredictorMetrics {
  double recall = 0;            // true active that were predicted
  double precision = 0;         // predicted that were truly active
  double predicted_active = 0;  // fraction of neurons predicted active per token
  double true_active = 0;       // fraction truly active per token
};

// Appends nothing and clears `active`, then fills it with the ascending ids of the neurons
// predicted active for x (dim,). `scratch` is resized as needed (reuse it between calls).
// A (r,d) F16 @ x (d,) -> h (r,);  B (n,r) F16 @ h (r,) + bias -> z (n,);  active = {i : z_i > 0}
// Throws Error when the vectors' sizes do not match rank, dim and neurons.
void predictor_predict(const Predictor& p, const float* x, std::vector<int32_t>& active,
                       std::vector<float>& scratch);

}  // namespace flashchat
