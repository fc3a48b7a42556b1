// predictor_fit.cc - Adam on binary cross-entropy for one layer's low-rank predictor, the
// held-out decision threshold and the metrics (see predictor_fit.h).
//
// Cost per step (batch R rows, rank r): X (R,d) A^T and dA = dH^T X: 2 R d r multiply-adds;
// H B^T, dB = G^T H and dH = G B: 3 R r n; plus one sigmoid per cell (R n). All as Eigen
// matrix products on row-major fp32 blocks; layers run in parallel (predictor_train.cc).

#include "convert/predictor_fit.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"

namespace flashchat {

namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

constexpr float kWarmupFraction = 0.05f;  // of the steps, linear warm-up of the learning rate
constexpr float kFinalLrFactor = 0.05f;   // cosine decay to this fraction of the learning rate
constexpr int kEvalRows = 256;            // rows per block when scoring

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// In-place Adam step on `param` with gradient `grad` (same size).
template <typename P, typename G>
void adam_step(P& param, const G& grad, P& m, P& v, float lr_corrected) {
  constexpr float kBeta1 = 0.9f, kBeta2 = 0.999f, kEps = 1e-8f;
  m.array() = kBeta1 * m.array() + (1.0f - kBeta1) * grad.array();
  v.array() = kBeta2 * v.array() + (1.0f - kBeta2) * grad.array().square();
  param.array() -= lr_corrected * m.array() / (v.array().sqrt() + kEps);
}

// Learning rate of step `step` (0-based) of `total`: linear warm-up, then cosine decay.
float learning_rate_at(int64_t step, int64_t total, float peak) {
  const int64_t warmup = std::max<int64_t>(1, static_cast<int64_t>(kWarmupFraction * total));
  if (step < warmup) return peak * static_cast<float>(step + 1) / static_cast<float>(warmup);
  const double progress =
      static_cast<double>(step - warmup) / static_cast<double>(std::max<int64_t>(1, total - warmup));
  return peak * (kFinalLrFactor + (1.0f - kFinalLrFactor) * 0.5f *
                                      static_cast<float>(1.0 + std::cos(std::numbers::pi * progress)));
}

// Calls fn(row, z) for every row in [first, last) of x, where z (neurons,) = B (A x) + bias
// computed with the stored (F16) factors, in blocks of kEvalRows.
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
  for (int64_t start = first; start < last; start += kEvalRows) {
    const int64_t rows = std::min<int64_t>(kEvalRows, last - start);
    const Eigen::Map<const RowMatrix> x(x_rows + start * dim, rows, dim);
    // X (rows,d) @ A^T -> H (rows,r);  H @ B^T + bias -> Z (rows,n)
    h.noalias() = x * a.transpose();
    z.noalias() = h * b.transpose();
    z.rowwise() += bias;
    for (int64_t i = 0; i < rows; ++i) fn(start + i, z.row(i).data());
  }
}

}  // namespace

Predictor predictor_fit(const float* x_rows, const uint8_t* labels, const PredictorFitJob& job,
                        int dim, int neurons, const PredictorTrainOptions& o,
                        const std::function<bool()>& on_step) {
  const int64_t n_train = job.n_train;
  const int r = job.rank;
  if (x_rows == nullptr || labels == nullptr || n_train < 1 || dim < 1 || neurons < 1 || r < 1 ||
      r > std::min(dim, neurons) || o.steps < 1 || o.batch_rows < 1) {
    fail("predictor training", "bad fit: " + std::to_string(n_train) + " rows, dim " +
                                   std::to_string(dim) + ", rank " + std::to_string(r));
  }
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

  // Mild positive weights: (negatives / positives) of the neuron, between 1 and the cap. Plain
  // BCE (cap 1) learns the posterior; the held-out threshold then sets the operating point.
  std::vector<int64_t> positives(static_cast<size_t>(neurons), 0);
  for (int64_t row = 0; row < n_train; ++row) {
    const uint8_t* lab = labels + row * neurons;
    for (int i = 0; i < neurons; ++i) positives[static_cast<size_t>(i)] += lab[i];
  }
  Eigen::ArrayXf w_pos(neurons);
  {
    for (int i = 0; i < neurons; ++i) {
      const double pos = static_cast<double>(std::max<int64_t>(1, positives[static_cast<size_t>(i)]));
      const double ratio = (static_cast<double>(n_train) - pos) / pos;
      w_pos[i] = static_cast<float>(std::clamp(ratio, 1.0, double{o.positive_weight_max}));
    }
  }

  // Parameters (on standardised x) and Adam state; the bias starts at each neuron's log-odds.
  RowMatrix a(r, dim), b(neurons, r);
  Eigen::RowVectorXf bias(neurons);
  {
    std::normal_distribution<float> normal(0.0f, 1.0f);
    const float a_std = 1.0f / std::sqrt(static_cast<float>(dim));
    const float b_std = 0.1f / std::sqrt(static_cast<float>(r));
    for (int64_t k = 0; k < a.size(); ++k) a.data()[k] = a_std * normal(rng);
    for (int64_t k = 0; k < b.size(); ++k) b.data()[k] = b_std * normal(rng);
    for (int i = 0; i < neurons; ++i) {
      const double f = (static_cast<double>(positives[static_cast<size_t>(i)]) + 0.5) /
                       (static_cast<double>(n_train) + 1.0);
      bias[i] = static_cast<float>(std::log(f / (1.0 - f)));
    }
  }
  RowMatrix m_a = RowMatrix::Zero(r, dim), v_a = RowMatrix::Zero(r, dim);
  RowMatrix m_b = RowMatrix::Zero(neurons, r), v_b = RowMatrix::Zero(neurons, r);
  Eigen::RowVectorXf m_bias = Eigen::RowVectorXf::Zero(neurons);
  Eigen::RowVectorXf v_bias = Eigen::RowVectorXf::Zero(neurons);

  std::vector<int64_t> order(static_cast<size_t>(n_train));
  for (int64_t k = 0; k < n_train; ++k) order[static_cast<size_t>(k)] = k;
  size_t next = order.size();  // reshuffle before the first batch
  std::vector<int64_t> batch;
  RowMatrix xb, h, z, grad_h, grad_a, grad_b;
  Eigen::RowVectorXf grad_bias;
  const int64_t total_steps = o.steps;
  const int64_t batch_rows = std::min<int64_t>(o.batch_rows, n_train);

  for (int64_t step = 0; step < total_steps; ++step) {
    batch.clear();
    while (static_cast<int64_t>(batch.size()) < batch_rows) {
      if (next == order.size()) {
        std::shuffle(order.begin(), order.end(), rng);
        next = 0;
      }
      batch.push_back(order[next++]);
    }
    const int64_t rows = batch_rows;
    // Xb (rows, d): standardised inputs of the batch.
    xb.resize(rows, dim);
    for (int64_t i = 0; i < rows; ++i) {
      const Eigen::Map<const Eigen::RowVectorXf> x(x_rows + batch[static_cast<size_t>(i)] * dim, dim);
      xb.row(i) = (x - mean).cwiseProduct(inv_std);
    }
    // Xb (rows,d) @ A^T (d,r) -> H (rows,r);  H @ B^T (r,n) + bias -> Z (rows,n)
    h.noalias() = xb * a.transpose();
    z.noalias() = h * b.transpose();
    z.rowwise() += bias;
    // dL/dZ of the weighted mean BCE-with-logits: (w_pos y (p - 1) + (1 - y) p) / rows.
    const float inv_rows = 1.0f / static_cast<float>(rows);
    z.array() = (1.0f + (-z.array()).exp()).inverse();  // sigmoid, vectorised
    for (int64_t i = 0; i < rows; ++i) {
      const uint8_t* lab = labels + batch[static_cast<size_t>(i)] * neurons;
      float* zi = z.row(i).data();
      for (int j = 0; j < neurons; ++j) {
        const float p = zi[j];
        zi[j] = (lab[j] ? w_pos[j] * (p - 1.0f) : p) * inv_rows;
      }
    }
    const RowMatrix& grad_z = z;
    // G^T (n,rows) @ H (rows,r) -> dB (n,r);  G (rows,n) @ B (n,r) -> dH (rows,r);
    // dH^T (r,rows) @ Xb (rows,d) -> dA (r,d);  column sums of G -> dbias (n,)
    grad_b.noalias() = grad_z.transpose() * h;
    grad_h.noalias() = grad_z * b;
    grad_a.noalias() = grad_h.transpose() * xb;
    grad_bias = grad_z.colwise().sum();

    const float lr = learning_rate_at(step, total_steps, o.learning_rate);
    const float t = static_cast<float>(step + 1);
    const float correction =
        std::sqrt(1.0f - std::pow(0.999f, t)) / (1.0f - std::pow(0.9f, t));
    adam_step(a, grad_a, m_a, v_a, lr * correction);
    adam_step(b, grad_b, m_b, v_b, lr * correction);
    adam_step(bias, grad_bias, m_bias, v_bias, lr * correction);
    if (!on_step()) return {};
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

float predictor_threshold_select(Predictor& p, const float* x_rows, const uint8_t* labels,
                                 int64_t first, int64_t last, float target_recall) {
  const int n = p.neurons;
  std::vector<float> positive_logits;
  for_each_logit_row(p, x_rows, first, last, [&](int64_t row, const float* z) {
    const uint8_t* lab = labels + row * n;
    for (int j = 0; j < n; ++j) {
      if (lab[j]) positive_logits.push_back(z[j]);
    }
  });
  if (positive_logits.empty()) return 0.0f;
  // Ascending, positives below index k may be missed; the k-th must end up above zero, and the
  // threshold sits just below it (so nothing with a smaller logit is predicted).
  const size_t k = std::min(positive_logits.size() - 1,
                            static_cast<size_t>(std::floor(
                                (1.0 - static_cast<double>(target_recall)) *
                                static_cast<double>(positive_logits.size()))));
  std::nth_element(positive_logits.begin(), positive_logits.begin() + static_cast<ptrdiff_t>(k),
                   positive_logits.end());
  const float kth = positive_logits[k];
  const float shift = -kth + 1e-5f * std::max(1.0f, std::fabs(kth));
  for (float& v : p.bias) v += shift;
  return shift;
}

PredictorMetrics predictor_evaluate(const Predictor& p, const float* x_rows, const uint8_t* labels,
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

}  // namespace flashchat
