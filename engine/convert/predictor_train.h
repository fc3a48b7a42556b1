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
  int rank = 64;             // rank of most layers (clamped to min(dim, neurons))
  int rank_last_layers = 0;  // rank of the last `n_last_layers` layers (0 = same as rank)
  int n_last_layers = 4;
  float gated_sparsity = 0.5f;    // fraction of neurons labelled inactive for smooth activations
  float holdout_fraction = 0.1f;  // tokens kept for the reported metrics
  int epochs = 20;
  // 0 = off. Otherwise, after training, one constant is added to all of a layer's biases so that
  // at least this fraction of the truly active neurons of the training tokens is predicted
  // (never lowers recall). Balanced training predicts about as many neurons as are active; for
  // SwiGLU labels (not a linear function of x) that caps recall near 0.65 on stories260K at
  // gated_sparsity 0.5, so smooth-activation models want e.g. 0.9 here.
  float target_recall = 0.0f;
  uint64_t seed = 1234;
  // Called with the overall fraction done (0..1, non-decreasing) and a stage name
  // ("collecting activations", then "training predictors"); return false to cancel (the trainer
  // then throws Error("predictor training: cancelled")). May be called from worker threads,
  // never concurrently.
  std::function<bool(double, const std::string&)> progress;
};

struct TrainedPredictors {
  std::vector<Predictor> layers;
  std::vector<float> thresholds;          // per layer activation threshold used for labels
  std::vector<PredictorMetrics> metrics;  // per layer, on the held-out tokens
};

// Trains predictors for every layer of a dense (fully loaded) model on `calib_tokens` (run in
// chunks of min(max_seq_len, 256) positions as separate sequences, each starting with BOS when
// the vocabulary has one; every calibration token is one training row, BOS positions are not).
// Throws Error on bad tokens/options or a model without resident FFN weights.
TrainedPredictors predictor_train_all(const Model& model, const std::vector<int>& calib_tokens,
                                      const PredictorTrainOptions& options);

// Trains one predictor on given data (what predictor_train_all does per layer): x (n_rows, dim)
// row-major FFN inputs, labels (n_rows, neurons) 0/1 (1 = active). The last
// options.holdout_fraction of the rows are held out; their metrics go to *metrics (the training
// rows are scored when nothing is held out). Uses options.seed, epochs, target_recall, progress
// (fraction of this training, stage "training predictors"); rank is clamped to
// [1, min(dim, neurons)].
// Throws Error on bad sizes or options, and Error("predictor training: cancelled").
Predictor predictor_train_layer(const float* x, const uint8_t* labels, int64_t n_rows, int dim,
                                int neurons, int rank, const PredictorTrainOptions& options,
                                PredictorMetrics* metrics = nullptr);

}  // namespace flashchat
