// predictor_fit.h - fitting one layer's low-rank predictor to recorded FFN inputs and labels,
// choosing its decision threshold for a target recall, and scoring it (used by
// predictor_train.cc; the activation collection lives there).
//
// Data layout everywhere: x (n_rows, dim) row-major fp32 FFN inputs, labels (n_rows, neurons)
// 0/1 (1 = active), rows [0, n_train) for training and [first, last) ranges for the rest.
#pragma once

#include <cstdint>
#include <functional>

#include "convert/predictor_train.h"
#include "flash/predictor.h"

namespace flashchat {

struct PredictorFitJob {
  int layer = 0;        // seeds the layer's random stream
  int rank = 0;         // already clamped to [1, min(dim, neurons)]
  int64_t n_train = 0;  // rows [0, n_train) are trained on
};

// Adam on (mildly positive-weighted) binary cross-entropy for options.steps minibatches of
// options.batch_rows rows drawn from shuffled passes over the training rows, learning rate
// warmed up over the first 5% of the steps and cosine-decayed to 5% of options.learning_rate.
// Returns the predictor with the input standardisation folded into A and bias, A and B rounded
// to F16. `on_step` is called after every step; when it returns false training stops and an
// empty Predictor (rank 0) is returned.
// Throws Error on bad sizes.
Predictor predictor_fit(const float* x, const uint8_t* labels, const PredictorFitJob& job, int dim,
                        int neurons, const PredictorTrainOptions& options,
                        const std::function<bool()>& on_step);

// Adds one constant to all of p.bias so that, on rows [first, last), at least `target_recall` of
// the truly active cells get z > 0 and as few other cells as that allows: the shift moves the
// decision threshold down when the predictor misses too many active neurons and up when it
// predicts more than needed. Returns the shift added (0 when the rows hold no active cell).
float predictor_threshold_select(Predictor& p, const float* x, const uint8_t* labels,
                                 int64_t first, int64_t last, float target_recall);

// Recall / precision / predicted and true active fractions of p (as predictor_predict decides,
// on its F16 factors) over rows [first, last).
PredictorMetrics predictor_evaluate(const Predictor& p, const float* x, const uint8_t* labels,
                                    int64_t first, int64_t last);

}  // namespace flashchat
