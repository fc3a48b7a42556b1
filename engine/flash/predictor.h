// predictor.h - the per-layer low-rank sparsity predictor of "LLM in a Flash".
//
// Neuron i of a layer is predicted active for FFN input x (dim,) when
//   (B (A x) + bias)[i] > 0,   i.e. sigmoid(...) > 0.5,
// with A (rank, dim), B (neurons, rank), bias (neurons,), all fp32 and resident in DRAM.
#pragma once

#include <cstdint>
#include <vector>

namespace flashchat {

struct Predictor {
  int rank = 0;
  int dim = 0;
  int neurons = 0;
  std::vector<float> a;     // (rank, dim) row-major
  std::vector<float> b;     // (neurons, rank) row-major
  std::vector<float> bias;  // (neurons,)
  int64_t size_bytes() const {
    return static_cast<int64_t>(a.size() + b.size() + bias.size()) * 4;
  }
};

// How well a predictor matched the true active sets on held-out calibration tokens.
struct PredictorMetrics {
  double recall = 0;            // true active that were predicted
  double precision = 0;         // predicted that were truly active
  double predicted_active = 0;  // fraction of neurons predicted active per token
  double true_active = 0;       // fraction truly active per token
};

// Appends nothing and clears `active`, then fills it with the ascending ids of the neurons
// predicted active for x (dim,). `scratch` is resized as needed (reuse it between calls).
// A (r,d) @ x (d,) -> h (r,);  B (n,r) @ h (r,) + bias -> z (n,);  active = {i : z_i > 0}
void predictor_predict(const Predictor& p, const float* x, std::vector<int32_t>& active,
                       std::vector<float>& scratch);

}  // namespace flashchat
