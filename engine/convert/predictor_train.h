// predictor_train.h - training the per-layer predictors from calibration text.
//
// The dense model runs over the calibration tokens; for every layer and token we keep the FFN
// input x and the label "neuron i is active". For ReLU-family FFNs active means the FFN hidden
// value is non-zero; for gated smooth activations (SwiGLU) it means |act(gate x) * (up x)| is
// above a per-layer threshold chosen as the `gated_sparsity` quantile of those magnitudes
// (CATS-style), so that a non-ReLU model can run sparse at a stated quality.
// Each predictor is trained with Adam on mildly positive-weighted binary cross-entropy for a
// fixed number of steps; its decision threshold (a constant added to the biases, the runtime
// still predicts z > 0) is then chosen on held-out rows for a target recall.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "flash/predictor.h"
#include "model/model.h"

namespace flashchat {

struct PredictorTrainOptions {
  int rank = 128;             // rank of most layers (clamped to min(dim, neurons))
  int rank_last_layers = -1;  // rank of the last `n_last_layers` layers; -1: 4 x rank, 0: rank
  int n_last_layers = -1;     // -1: a quarter of the layers, rounded up
  std::vector<int> layer_ranks;  // when not empty: the rank of every layer (overrides the above)
  float gated_sparsity = 0.5f;    // fraction of neurons labelled inactive for smooth activations
  // Rows held out of training (the tail of the calibration tokens): the first half chooses the
  // decision threshold, the second half gives the reported metrics.
  float holdout_fraction = 0.2f;
  // Adam steps per layer, whatever the number of tokens. Measured on the default model: the
  // number of steps matters, the batch size hardly (1000 x 64 rows as good as 1000 x 256, better
  // than 300 x 256 or 500 x 64), and the cost is steps x batch_rows.
  int steps = 1000;
  int batch_rows = 64;           // rows per step
  float learning_rate = 1e-2f;   // peak; warm-up then cosine decay
  float positive_weight_max = 4.0f;  // cap of a neuron's positive weight (1 = plain BCE)
  // After training, one constant is added to all of a layer's biases so that this fraction of
  // the truly active neurons of the threshold rows is predicted, moving the threshold down or
  // up. 0 = off (predict where the trained posterior exceeds 0.5).
  float target_recall = 0.9f;
  uint64_t seed = 1234;
  // Called with the overall fraction done (0..1, non-decreasing) and a stage name
  // ("collecting activations", then "training predictors"); return false to cancel (the trainer
  // then throws Error("predictor training: cancelled")). May be called from worker threads,
  // never concurrently.
  std::function<bool(double, const std::string&)> progress;
};

// The rank the options give layer `layer` of `n_layers` (layer_ranks when given, else rank or
// rank_last_layers), clamped to [1, max_rank].
int predictor_rank_for_layer(const PredictorTrainOptions& options, int layer, int n_layers,
                             int max_rank);

struct TrainedPredictors {
  std::vector<Predictor> layers;
  std::vector<float> thresholds;          // per layer activation threshold used for labels
  std::vector<PredictorMetrics> metrics;  // per layer, on the held-out tokens
  std::vector<float> bias_shifts;         // per layer, added by the threshold selection
  int64_t metric_rows = 0;                // held-out rows the metrics were measured on
  double collect_seconds = 0;             // running the model over the calibration tokens
  double train_seconds = 0;               // labelling, training, thresholds and metrics
};

// Trains predictors for every layer of a dense (fully loaded) model on `calib_tokens` (run in
// chunks of min(max_seq_len, 256) positions as separate sequences, each starting with BOS when
// the vocabulary has one; every calibration token is one training row, BOS positions are not).
// Throws Error on bad tokens/options or a model without resident FFN weights.
TrainedPredictors predictor_train_all(const Model& model, const std::vector<int>& calib_tokens,
                                      const PredictorTrainOptions& options);

// Trains one predictor on given data (what predictor_train_all does per layer): x (n_rows, dim)
// row-major FFN inputs, labels (n_rows, neurons) 0/1 (1 = active). The last
// options.holdout_fraction of the rows are held out: the threshold is chosen on the first half
// of them, the metrics in *metrics come from the second half (with a single held-out row both
// use it; with none, both use the training rows). Uses options.seed, steps, batch_rows,
// learning_rate, positive_weight_max, target_recall, progress (fraction of this training,
// stage "training predictors"); rank is clamped to [1, min(dim, neurons)]. *bias_shift (when
// given) receives the threshold's shift.
// Throws Error on bad sizes or options, and Error("predictor training: cancelled").
Predictor predictor_train_layer(const float* x, const uint8_t* labels, int64_t n_rows, int dim,
                                int neurons, int rank, const PredictorTrainOptions& options,
                                PredictorMetrics* metrics = nullptr,
                                float* bias_shift = nullptr);

}  // namespace flashchat
