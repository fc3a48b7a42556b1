// predictor_train.cc - collecting calibration activations and training the per-layer
// low-rank predictors (see predictor_train.h).
//
// Stage 1 (collect, progress 0..0.5): the dense model runs over the calibration tokens in
// independent chunks (each a fresh context, BOS first when the vocabulary has one), in parallel
// over chunks. A capturing FfnBackend stores, for every layer and calibration token, the FFN
// input x and either the 0/1 labels (ReLU family) or |hidden| as fp16 (smooth activations, so
// the per-layer quantile threshold can be taken over all training tokens before labelling).
// Stage 2 (train, progress 0.5..1): per layer, in parallel over layers, Adam on class-balanced
// binary cross-entropy over minibatches in fp32, A and B rounded once to the F16 they are stored
// in (predictor_store_f16), then the recall target and the held-out metrics on the rounded
// predictor (the one the runtime evaluates).
//
// Memory: N calibration tokens cost, per layer, N*dim*4 bytes of inputs plus N*neurons bytes of
// labels (plus N*neurons*2 bytes of fp16 magnitudes while collecting for SwiGLU/GELU models;
// those are turned into labels and freed one layer at a time). E.g. Llama-2-7B (dim 4096,
// 11008 neurons, 32 layers) with N = 4096: 2.1 GB inputs + 1.4 GB labels + 2.9 GB transient
// magnitudes; OPT-6.7B (16384 neurons, ReLU): 2.1 GB + 2.1 GB. Training adds per concurrently
// trained layer a few (256, neurons) float batch matrices and Adam state (3x the predictor).

#include "convert/predictor_train.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <Eigen/Core>
#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstring>
#include <mutex>
#include <numbers>
#include <random>
#include <string>

#include "core/error.h"
#include "model/transformer.h"

namespace flashchat {

namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

constexpr int kMaxChunkTokens = 256;  // context length of one calibration sequence
constexpr int kCalibBlockTokens = 32;  // tokens per forward_batch while collecting activations
constexpr int kBatchRows = 256;       // minibatch size
constexpr float kLearningRate = 1e-2f;
constexpr float kFinalLrFactor = 0.05f;     // cosine decay to this fraction of kLearningRate
constexpr double kMinClassFraction = 1e-3;  // caps the balanced class weights at 500

[[noreturn]] void train_fail(const std::string& message) {
  throw Error("predictor training: " + message);
}

bool labels_are_nonzero(Activation a) {
  return a == Activation::Relu || a == Activation::Relu2 || a == Activation::DRelu;
}

uint16_t to_f16_bits(float v) {
  return Eigen::half(v).x;
}
float from_f16_bits(uint16_t bits) {
  Eigen::half h;
  h.x = bits;
  return static_cast<float>(h);
}

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Serialises progress callbacks from worker threads and remembers a cancellation.
class Progress {
 public:
  explicit Progress(const PredictorTrainOptions& options) : options_(options) {}
  // Returns false once cancelled (by this or an earlier call).
  bool report(double fraction, const char* stage) {
    if (cancelled_.load()) return false;
    if (!options_.progress) return true;
    std::lock_guard<std::mutex> lock(mutex_);
    if (cancelled_.load()) return false;
    // Workers finish steps in any order: keep the reported fraction non-decreasing.
    last_ = std::max(last_, std::clamp(fraction, 0.0, 1.0));
    if (!options_.progress(last_, stage)) cancelled_.store(true);
    return !cancelled_.load();
  }
  bool cancelled() const { return cancelled_.load(); }
  void throw_if_cancelled() const {
    if (cancelled()) train_fail("cancelled");
  }

 private:
  const PredictorTrainOptions& options_;
  std::mutex mutex_;
  double last_ = 0.0;
  std::atomic<bool> cancelled_{false};
};

struct LayerData {
  std::vector<float> x;           // (N, dim) FFN inputs
  std::vector<uint8_t> labels;    // (N, neurons) 1 = active
  std::vector<uint16_t> mag_f16;  // (N, neurons) |hidden| as fp16 bits (smooth activations)
};

// Dense FFN that also records, for the current row, each layer's input and activity.
class CaptureFfn : public FfnBackend {
 public:
  CaptureFfn(const Model& model, std::vector<LayerData>& data)
      : dense_(model),
        data_(data),
        dim_(model.config.dim),
        neurons_(model.config.ffn_dim),
        nonzero_labels_(labels_are_nonzero(model.config.activation)) {}

  void set_row(int64_t row) { row_ = row; }  // -1: do not record (e.g. the BOS position)

  // x (dim,) -> out (dim,) through DenseFfn; records x and hidden (ffn_dim,) at row_.
  void ffn_forward(int layer, const float* x, float* out) override {
    dense_.ffn_forward(layer, x, out);
    if (row_ >= 0) record(layer, row_, x, dense_.last_hidden().data());
  }

  // A block: x (n, dim) -> out (n, dim) through DenseFfn's matmuls; records rows row_.. row_+n-1.
  void ffn_forward_batch(int layer, const float* x, int n, float* out) override {
    dense_.ffn_forward_batch(layer, x, n, out);
    if (row_ < 0) return;
    for (int i = 0; i < n; ++i) {
      record(layer, row_ + i, x + i * dim_, dense_.batch_hidden() + i * neurons_);
    }
  }

 private:
  // x (dim,) and hidden h (ffn_dim,) of one token -> row `row` of the layer's data.
  void record(int layer, int64_t row, const float* x, const float* h) {
    LayerData& d = data_[static_cast<size_t>(layer)];
    std::memcpy(d.x.data() + row * dim_, x, sizeof(float) * static_cast<size_t>(dim_));
    if (nonzero_labels_) {
      uint8_t* lab = d.labels.data() + row * neurons_;
      for (int64_t i = 0; i < neurons_; ++i) lab[i] = h[i] != 0.0f ? 1 : 0;
    } else {
      uint16_t* mag = d.mag_f16.data() + row * neurons_;
      for (int64_t i = 0; i < neurons_; ++i) mag[i] = to_f16_bits(std::fabs(h[i]));
    }
  }

  DenseFfn dense_;
  std::vector<LayerData>& data_;
  int64_t dim_, neurons_;
  bool nonzero_labels_;
  int64_t row_ = -1;
};

void validate_options(const PredictorTrainOptions& o);

void validate(const Model& model, const std::vector<int>& tokens, const PredictorTrainOptions& o) {
  const ModelConfig& c = model.config;
  if (c.n_layers <= 0 || c.dim <= 0 || c.ffn_dim <= 0 ||
      static_cast<int>(model.weights.layers.size()) != c.n_layers) {
    train_fail("model '" + model.source_path + "' has no usable layers");
  }
  for (const LayerWeights& L : model.weights.layers) {
    if (L.ffn_up.empty() || L.ffn_down.empty() || (c.ffn_gated && L.ffn_gate.empty())) {
      train_fail("model '" + model.source_path +
                 "' has no resident FFN weights (predictors need the dense model)");
    }
  }
  if (tokens.empty()) train_fail("no calibration tokens");
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] < 0 || tokens[i] >= c.vocab_size) {
      train_fail("calibration token " + std::to_string(i) + " = " + std::to_string(tokens[i]) +
                 " is outside the vocabulary of " + std::to_string(c.vocab_size));
    }
  }
  validate_options(o);
}

void validate_options(const PredictorTrainOptions& o) {
  if (o.rank < 1 || o.rank_last_layers < 0 || o.n_last_layers < 0) {
    train_fail("rank must be >= 1 and rank_last_layers, n_last_layers >= 0");
  }
  if (o.epochs < 1) train_fail("epochs must be >= 1");
  if (!(o.holdout_fraction >= 0.0f && o.holdout_fraction < 1.0f)) {
    train_fail("holdout_fraction must be in [0, 1)");
  }
  if (!(o.gated_sparsity >= 0.0f && o.gated_sparsity < 1.0f)) {
    train_fail("gated_sparsity must be in [0, 1)");
  }
  if (!(o.target_recall >= 0.0f && o.target_recall <= 1.0f)) {
    train_fail("target_recall must be in [0, 1]");
  }
}

// Runs the model over all tokens and fills data (x and labels or magnitudes for every row).
void collect(const Model& model, const std::vector<int>& tokens, std::vector<LayerData>& data,
             Progress& progress) {
  const ModelConfig& c = model.config;
  const int context =
      c.max_seq_len > 0 ? std::min(c.max_seq_len, kMaxChunkTokens) : kMaxChunkTokens;
  const int bos = model.tokenizer.bos_id;
  const bool with_bos = bos >= 0 && bos < c.vocab_size;
  const int per_chunk = with_bos ? context - 1 : context;
  if (per_chunk < 1) train_fail("model context of " + std::to_string(context) + " is too short");
  const int64_t n_tokens = static_cast<int64_t>(tokens.size());
  const int64_t n_chunks = (n_tokens + per_chunk - 1) / per_chunk;
  std::atomic<int64_t> done{0};

  tbb::parallel_for(
      tbb::blocked_range<int64_t>(0, n_chunks, 1), [&](const tbb::blocked_range<int64_t>& range) {
        for (int64_t chunk = range.begin(); chunk != range.end(); ++chunk) {
          if (progress.cancelled()) return;
          const int64_t first = chunk * per_chunk;
          const int64_t last = std::min(n_tokens, first + per_chunk);
          CaptureFfn capture(model, data);
          Transformer transformer(model, context, &capture);
          int pos = 0;
          if (with_bos) {
            capture.set_row(-1);
            transformer.forward(bos, pos++);
          }
          // Blocks of kCalibBlockTokens through forward_batch (each weight row read once per
          // block); the capture records every token of the block.
          for (int64_t t = first; t < last; t += kCalibBlockTokens) {
            const int n = static_cast<int>(std::min<int64_t>(kCalibBlockTokens, last - t));
            capture.set_row(t);
            transformer.forward_batch(tokens.data() + t, n, pos);
            pos += n;
            const int64_t n_done = done += n;
            if (!progress.report(0.5 * static_cast<double>(n_done) / static_cast<double>(n_tokens),
                                 "collecting activations")) {
              return;
            }
          }
        }
      });
  progress.throw_if_cancelled();
}

// Turns |hidden| (fp16 bits; non-negative halves order like their bit patterns) into labels
// |hidden| > t, t = the `sparsity` quantile over the first n_train rows. Frees the magnitudes.
float label_by_quantile(LayerData& d, int64_t n_rows, int64_t n_train, int64_t neurons,
                        double sparsity) {
  std::vector<int64_t> histogram(65536, 0);
  for (int64_t k = 0; k < n_train * neurons; ++k) ++histogram[d.mag_f16[static_cast<size_t>(k)]];
  const double target = sparsity * static_cast<double>(n_train * neurons);
  uint16_t threshold_bits = 0;
  int64_t cumulative = 0;
  for (int bits = 0; bits < 65536; ++bits) {
    cumulative += histogram[static_cast<size_t>(bits)];
    threshold_bits = static_cast<uint16_t>(bits);
    if (static_cast<double>(cumulative) >= target) break;
  }
  d.labels.resize(static_cast<size_t>(n_rows * neurons));
  for (int64_t k = 0; k < n_rows * neurons; ++k) {
    d.labels[static_cast<size_t>(k)] = d.mag_f16[static_cast<size_t>(k)] > threshold_bits ? 1 : 0;
  }
  std::vector<uint16_t>().swap(d.mag_f16);
  return from_f16_bits(threshold_bits);
}

// In-place Adam step on `param` with gradient `grad` (same size).
template <typename P, typename G>
void adam_step(P& param, const G& grad, P& m, P& v, float lr_corrected) {
  constexpr float kBeta1 = 0.9f, kBeta2 = 0.999f, kEps = 1e-8f;
  m.array() = kBeta1 * m.array() + (1.0f - kBeta1) * grad.array();
  v.array() = kBeta2 * v.array() + (1.0f - kBeta2) * grad.array().square();
  param.array() -= lr_corrected * m.array() / (v.array().sqrt() + kEps);
}

struct LayerJob {
  int layer = 0;
  int rank = 0;
  int64_t n_train = 0;
  int64_t n_rows = 0;
  int64_t steps_per_epoch = 0;
};

// Trains one layer's predictor on rows [0, n_train) of d; returns it with x standardisation
// folded into A and bias. `on_step` is called after every minibatch; false stops training.
template <typename OnStep>
Predictor train_layer(const float* x_rows, const uint8_t* labels, const LayerJob& job, int dim,
                      int neurons, const PredictorTrainOptions& o, OnStep&& on_step) {
  const int64_t n_train = job.n_train;
  const int r = job.rank;
  std::mt19937_64 rng(splitmix64(o.seed ^ splitmix64(static_cast<uint64_t>(job.layer) + 1)));

  // Per-dimension standardisation of x over the training rows.
  Eigen::VectorXd sum = Eigen::VectorXd::Zero(dim), sum_sq = Eigen::VectorXd::Zero(dim);
  for (int64_t row = 0; row < n_train; ++row) {
    const Eigen::Map<const Eigen::VectorXf> x(x_rows + row * dim, dim);
    sum += x.cast<double>();
    sum_sq += x.cast<double>().array().square().matrix();
  }
  Eigen::RowVectorXf mean(dim), inv_std(dim);
  for (int j = 0; j < dim; ++j) {
    const double mu = sum[j] / static_cast<double>(n_train);
    const double var = std::max(0.0, sum_sq[j] / static_cast<double>(n_train) - mu * mu);
    mean[j] = static_cast<float>(mu);
    inv_std[j] = var > 1e-20 ? static_cast<float>(1.0 / std::sqrt(var)) : 0.0f;
  }

  // Balanced class weights per neuron: each class carries half of the neuron's loss.
  Eigen::ArrayXf w_pos(neurons), w_neg(neurons);
  {
    std::vector<int64_t> positives(static_cast<size_t>(neurons), 0);
    for (int64_t row = 0; row < n_train; ++row) {
      const uint8_t* lab = labels + row * neurons;
      for (int i = 0; i < neurons; ++i) positives[static_cast<size_t>(i)] += lab[i];
    }
    for (int i = 0; i < neurons; ++i) {
      const double frac = std::clamp(
          static_cast<double>(positives[static_cast<size_t>(i)]) / static_cast<double>(n_train),
          kMinClassFraction, 1.0 - kMinClassFraction);
      w_pos[i] = static_cast<float>(0.5 / frac);
      w_neg[i] = static_cast<float>(0.5 / (1.0 - frac));
    }
  }

  // Parameters (on standardised x) and Adam state.
  RowMatrix a(r, dim), b(neurons, r);
  Eigen::RowVectorXf bias = Eigen::RowVectorXf::Zero(neurons);
  {
    std::normal_distribution<float> normal(0.0f, 1.0f);
    const float a_std = 1.0f / std::sqrt(static_cast<float>(dim));
    const float b_std = 0.1f / std::sqrt(static_cast<float>(r));
    for (int64_t k = 0; k < a.size(); ++k) a.data()[k] = a_std * normal(rng);
    for (int64_t k = 0; k < b.size(); ++k) b.data()[k] = b_std * normal(rng);
  }
  RowMatrix m_a = RowMatrix::Zero(r, dim), v_a = RowMatrix::Zero(r, dim);
  RowMatrix m_b = RowMatrix::Zero(neurons, r), v_b = RowMatrix::Zero(neurons, r);
  Eigen::RowVectorXf m_bias = Eigen::RowVectorXf::Zero(neurons);
  Eigen::RowVectorXf v_bias = Eigen::RowVectorXf::Zero(neurons);

  std::vector<int64_t> order(static_cast<size_t>(n_train));
  for (int64_t k = 0; k < n_train; ++k) order[static_cast<size_t>(k)] = k;
  RowMatrix xb, h, z, grad_h, grad_a, grad_b;
  Eigen::RowVectorXf grad_bias;
  const int64_t total_steps = job.steps_per_epoch * o.epochs;
  int64_t step = 0;

  for (int epoch = 0; epoch < o.epochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), rng);
    for (int64_t start = 0; start < n_train; start += kBatchRows) {
      const int64_t rows = std::min<int64_t>(kBatchRows, n_train - start);
      // Xb (rows, d): standardised inputs of the batch.
      xb.resize(rows, dim);
      for (int64_t i = 0; i < rows; ++i) {
        const int64_t row = order[static_cast<size_t>(start + i)];
        const Eigen::Map<const Eigen::RowVectorXf> x(x_rows + row * dim, dim);
        xb.row(i) = (x - mean).cwiseProduct(inv_std);
      }
      // Xb (rows,d) @ A^T (d,r) -> H (rows,r);  H @ B^T (r,n) + bias -> Z (rows,n)
      h.noalias() = xb * a.transpose();
      z.noalias() = h * b.transpose();
      z.rowwise() += bias;
      // dL/dZ of the class-weighted mean BCE-with-logits: w * (sigmoid(z) - y) / rows.
      const float inv_rows = 1.0f / static_cast<float>(rows);
      z.array() = (1.0f + (-z.array()).exp()).inverse();  // sigmoid, vectorised
      for (int64_t i = 0; i < rows; ++i) {
        const uint8_t* lab = labels + order[static_cast<size_t>(start + i)] * neurons;
        float* zi = z.row(i).data();
        for (int j = 0; j < neurons; ++j) {
          const float p = zi[j];
          zi[j] = (lab[j] ? w_pos[j] * (p - 1.0f) : w_neg[j] * p) * inv_rows;
        }
      }
      const RowMatrix& grad_z = z;
      // G^T (n,rows) @ H (rows,r) -> dB (n,r);  G (rows,n) @ B (n,r) -> dH (rows,r);
      // dH^T (r,rows) @ Xb (rows,d) -> dA (r,d);  column sums of G -> dbias (n,)
      grad_b.noalias() = grad_z.transpose() * h;
      grad_h.noalias() = grad_z * b;
      grad_a.noalias() = grad_h.transpose() * xb;
      grad_bias = grad_z.colwise().sum();

      ++step;
      const double progress = static_cast<double>(step - 1) / static_cast<double>(total_steps);
      const float lr =
          kLearningRate *
          (kFinalLrFactor + (1.0f - kFinalLrFactor) * 0.5f *
                                static_cast<float>(1.0 + std::cos(std::numbers::pi * progress)));
      const float correction = std::sqrt(1.0f - std::pow(0.999f, static_cast<float>(step))) /
                               (1.0f - std::pow(0.9f, static_cast<float>(step)));
      adam_step(a, grad_a, m_a, v_a, lr * correction);
      adam_step(b, grad_b, m_b, v_b, lr * correction);
      adam_step(bias, grad_bias, m_bias, v_bias, lr * correction);
      if (!on_step()) return {};
    }
  }

  // Fold the standardisation: z = B A ((x - mean) * inv_std) + bias
  //                             = B (A diag(inv_std)) x + (bias - B A (mean * inv_std)).
  Predictor p;
  p.rank = r;
  p.dim = dim;
  p.neurons = neurons;
  const RowMatrix a_folded = a * inv_std.asDiagonal();
  const Eigen::VectorXf shift = b * (a * mean.cwiseProduct(inv_std).transpose());
  const Eigen::RowVectorXf bias_folded = bias - shift.transpose();
  predictor_store_f16(p, a_folded.data(), b.data());
  p.bias.assign(bias_folded.data(), bias_folded.data() + bias_folded.size());
  return p;
}

// Calls fn(row, z) for every row in [first, last) of x_rows, where z (neurons,) = B (A x) + bias
// computed with the stored (F16) factors, in batches of kBatchRows.
template <typename Fn>
void for_each_logit_row(const Predictor& p, const float* x_rows, int64_t first, int64_t last,
                        Fn fn) {
  const int dim = p.dim, n = p.neurons, r = p.rank;
  std::vector<float> a_f32, b_f32;  // the stored F16 factors, exactly, as fp32
  predictor_weights_f32(p, a_f32, b_f32);
  const Eigen::Map<const RowMatrix> a(a_f32.data(), r, dim);
  const Eigen::Map<const RowMatrix> b(b_f32.data(), n, r);
  const Eigen::Map<const Eigen::RowVectorXf> bias(p.bias.data(), n);
  RowMatrix h, z;
  for (int64_t start = first; start < last; start += kBatchRows) {
    const int64_t rows = std::min<int64_t>(kBatchRows, last - start);
    const Eigen::Map<const RowMatrix> x(x_rows + start * dim, rows, dim);
    // X (rows,d) @ A^T -> H (rows,r);  H @ B^T + bias -> Z (rows,n)
    h.noalias() = x * a.transpose();
    z.noalias() = h * b.transpose();
    z.rowwise() += bias;
    for (int64_t i = 0; i < rows; ++i) fn(start + i, z.row(i).data());
  }
}

// Adds one constant to p.bias so that at least `target` of the positive labels of rows
// [0, n_train) get z > 0 (no change when they already do).
void raise_recall(Predictor& p, const float* x_rows, const uint8_t* labels, int64_t n_train,
                  float target) {
  const int n = p.neurons;
  std::vector<float> positive_logits;
  for_each_logit_row(p, x_rows, 0, n_train, [&](int64_t row, const float* z) {
    const uint8_t* lab = labels + row * n;
    for (int j = 0; j < n; ++j) {
      if (lab[j]) positive_logits.push_back(z[j]);
    }
  });
  if (positive_logits.empty()) return;
  // Positives below index k (ascending) may be missed; the k-th must end up above zero.
  const size_t k = static_cast<size_t>(std::floor((1.0 - static_cast<double>(target)) *
                                                  static_cast<double>(positive_logits.size())));
  if (k >= positive_logits.size()) return;
  std::nth_element(positive_logits.begin(), positive_logits.begin() + static_cast<ptrdiff_t>(k),
                   positive_logits.end());
  const float kth = positive_logits[k];
  if (kth > 0.0f) return;
  const float shift = -kth + 1e-5f * std::max(1.0f, std::fabs(kth));
  for (float& v : p.bias) v += shift;
}

// Recall / precision / active fractions of p over rows [first, last) of d.
PredictorMetrics evaluate(const Predictor& p, const float* x_rows, const uint8_t* labels,
                          int64_t first, int64_t last) {
  const int n = p.neurons;
  int64_t tp = 0, fp = 0, fn = 0;
  for_each_logit_row(p, x_rows, first, last, [&](int64_t row, const float* z) {
    const uint8_t* lab = labels + row * n;
    for (int j = 0; j < n; ++j) {
      const bool predicted = z[j] > 0.0f;
      tp += predicted && lab[j];
      fp += predicted && !lab[j];
      fn += !predicted && lab[j];
    }
  });
  const double cells = static_cast<double>(last - first) * n;
  PredictorMetrics m;
  m.recall = tp + fn > 0 ? static_cast<double>(tp) / static_cast<double>(tp + fn) : 1.0;
  m.precision = tp + fp > 0 ? static_cast<double>(tp) / static_cast<double>(tp + fp) : 1.0;
  m.predicted_active = cells > 0 ? static_cast<double>(tp + fp) / cells : 0.0;
  m.true_active = cells > 0 ? static_cast<double>(tp + fn) / cells : 0.0;
  return m;
}

// Rows held out of n_rows for the metrics (at least one when the fraction is positive);
// throws when nothing would be left to train on.
int64_t holdout_rows(int64_t n_rows, float fraction) {
  int64_t n_hold = static_cast<int64_t>(std::llround(fraction * static_cast<double>(n_rows)));
  if (fraction > 0.0f) n_hold = std::max<int64_t>(n_hold, 1);
  if (n_rows - n_hold < 1) {
    train_fail(std::to_string(n_rows) + " rows leave none for training after holding out " +
               std::to_string(n_hold));
  }
  return n_hold;
}

}  // namespace

Predictor predictor_train_layer(const float* x, const uint8_t* labels, int64_t n_rows, int dim,
                                int neurons, int rank, const PredictorTrainOptions& options,
                                PredictorMetrics* metrics) {
  validate_options(options);
  if (x == nullptr || labels == nullptr || n_rows < 1 || dim < 1 || neurons < 1 || rank < 1) {
    train_fail("bad layer data: " + std::to_string(n_rows) + " rows, dim " + std::to_string(dim) +
               ", " + std::to_string(neurons) + " neurons, rank " + std::to_string(rank));
  }
  const int64_t n_hold = holdout_rows(n_rows, options.holdout_fraction);
  LayerJob job;
  job.rank = std::clamp(rank, 1, std::min(dim, neurons));
  job.n_train = n_rows - n_hold;
  job.n_rows = n_rows;
  job.steps_per_epoch = (job.n_train + kBatchRows - 1) / kBatchRows;
  const int64_t total_steps = job.steps_per_epoch * options.epochs;
  Progress progress(options);
  int64_t steps_done = 0;
  auto on_step = [&] {
    ++steps_done;
    return progress.report(static_cast<double>(steps_done) / static_cast<double>(total_steps),
                           "training predictors");
  };
  if (!progress.report(0.0, "training predictors")) progress.throw_if_cancelled();
  Predictor p = train_layer(x, labels, job, dim, neurons, options, on_step);
  progress.throw_if_cancelled();
  if (options.target_recall > 0.0f) raise_recall(p, x, labels, job.n_train, options.target_recall);
  if (metrics != nullptr) {
    *metrics = n_hold > 0 ? evaluate(p, x, labels, job.n_train, n_rows)
                          : evaluate(p, x, labels, 0, job.n_train);
  }
  return p;
}

TrainedPredictors predictor_train_all(const Model& model, const std::vector<int>& calib_tokens,
                                      const PredictorTrainOptions& options) {
  validate(model, calib_tokens, options);
  const ModelConfig& c = model.config;
  const int n_layers = c.n_layers, dim = c.dim, neurons = c.ffn_dim;
  const int64_t n_rows = static_cast<int64_t>(calib_tokens.size());
  const int64_t n_hold = holdout_rows(n_rows, options.holdout_fraction);
  const int64_t n_train = n_rows - n_hold;
  const bool nonzero_labels = labels_are_nonzero(c.activation);
  Progress progress(options);
  if (!progress.report(0.0, "collecting activations")) progress.throw_if_cancelled();

  std::vector<LayerData> data(static_cast<size_t>(n_layers));
  for (LayerData& d : data) {
    d.x.resize(static_cast<size_t>(n_rows * dim));
    if (nonzero_labels) {
      d.labels.resize(static_cast<size_t>(n_rows * neurons));
    } else {
      d.mag_f16.resize(static_cast<size_t>(n_rows * neurons));
    }
  }
  collect(model, calib_tokens, data, progress);

  TrainedPredictors out;
  out.layers.resize(static_cast<size_t>(n_layers));
  out.thresholds.assign(static_cast<size_t>(n_layers), 0.0f);
  out.metrics.resize(static_cast<size_t>(n_layers));
  if (!nonzero_labels) {
    for (int l = 0; l < n_layers; ++l) {
      out.thresholds[static_cast<size_t>(l)] = label_by_quantile(
          data[static_cast<size_t>(l)], n_rows, n_train, neurons, options.gated_sparsity);
    }
  }

  std::vector<LayerJob> jobs(static_cast<size_t>(n_layers));
  const int max_rank = std::min(dim, neurons);
  int64_t total_steps = 0;
  for (int l = 0; l < n_layers; ++l) {
    LayerJob& job = jobs[static_cast<size_t>(l)];
    job.layer = l;
    const bool last = l >= n_layers - options.n_last_layers;
    const int wanted =
        last && options.rank_last_layers > 0 ? options.rank_last_layers : options.rank;
    job.rank = std::clamp(wanted, 1, max_rank);
    job.n_train = n_train;
    job.n_rows = n_rows;
    job.steps_per_epoch = (n_train + kBatchRows - 1) / kBatchRows;
    total_steps += job.steps_per_epoch * options.epochs;
  }

  std::atomic<int64_t> steps_done{0};
  tbb::parallel_for(
      tbb::blocked_range<int>(0, n_layers, 1), [&](const tbb::blocked_range<int>& range) {
        for (int l = range.begin(); l != range.end(); ++l) {
          if (progress.cancelled()) return;
          const LayerData& d = data[static_cast<size_t>(l)];
          const LayerJob& job = jobs[static_cast<size_t>(l)];
          auto on_step = [&] {
            const int64_t done = ++steps_done;
            return progress.report(
                0.5 + 0.5 * static_cast<double>(done) / static_cast<double>(total_steps),
                "training predictors");
          };
          Predictor p =
              train_layer(d.x.data(), d.labels.data(), job, dim, neurons, options, on_step);
          if (progress.cancelled()) return;
          if (options.target_recall > 0.0f) {
            raise_recall(p, d.x.data(), d.labels.data(), n_train, options.target_recall);
          }
          // Metrics on the held-out tail; on the training rows when nothing is held out.
          out.metrics[static_cast<size_t>(l)] =
              n_hold > 0 ? evaluate(p, d.x.data(), d.labels.data(), n_train, n_rows)
                         : evaluate(p, d.x.data(), d.labels.data(), 0, n_train);
          out.layers[static_cast<size_t>(l)] = std::move(p);
        }
      });
  progress.throw_if_cancelled();
  return out;
}

}  // namespace flashchat
