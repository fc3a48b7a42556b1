// predictor_train.h - training the per-layer predictors from calibration text.
//
// The dense model runs over the calibration tokens; for every layer and token we keep the FFN
// input x and the label "neuron i is active". For ReLU-family FFNs active means the FFN hidden
// value is non-zero; for gated smooth activations (SwiGLU) it means |act(gate x) * (up x)| is
// above a per-layer threshold chosen as the `gated_sparsity` quantile of those magnitudes
// (CATS-style), so that a non-ReLU model can run sparse at a stated quality.
// Each predictor is trained with Adam on class-balanced binary cross-entropy.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "flash/predictor.h"
#include "model/model.h"

namespace flashchat {

struct PredictorTrainOptions {
  int rank = 64;              // rank of most layers (clamped to min(dim, neurons))
  int rank_last_layers = 0;   // rank of the last `n_last_layers` layers (0 = same as rank)
  int n_last_layers = 4;
  float gated_sparsity = 0.5f;  // fraction of neurons labelled inactive for smooth activations
  float holdout_fraction = 0.1f;  // tokens kept for the reported metrics
  int epochs = 20;
  uint64_t seed = 1234;
  // Called with the overall fraction done (0..1) and a stage name; return false to cancel
  // (the trainer then throws Error("cancelled")).
  std::function<bool(double, const std::string&)> progress;
};

struct TrainedPredictors {
  std::vector<Predictor> layers;
  std::vector<float> thresholds;          // per layer activation threshold used for labels
  std::vector<PredictorMetrics> metrics;  // per layer, on the held-out tokens
};

// Trains predictors for every layer of a dense (fully loaded) model on `calib_tokens` (run in
// chunks of the model's context as separate sequences, each starting with BOS).
TrainedPredictors predictor_train_all(const Model& model, const std::vector<int>& calib_tokens,
                                      const PredictorTrainOptions& options);

}  // namespace flashchat
