// predictor_train.cc - collecting calibration activations and training the per-layer
// low-rank predictors (see predictor_train.h).
//
// Stage 1 (collect, progress 0..0.5): the dense model runs over the calibration tokens in
// independent chunks (each a fresh context, BOS first when the vocabulary has one), in parallel
// over chunks. A capturing FfnBackend stores, for every layer and calibration token, the FFN
// input x and either the 0/1 labels (ReLU family) or |hidden| as fp16 (smooth activations, so
// the per-layer quantile threshold can be taken over all training tokens before labelling).
// Stage 2 (train, progress 0.5..1): per layer, in parallel over layers, predictor_fit (Adam on
// mildly weighted binary cross-entropy, a fixed number of minibatch steps, fp32, A and B rounded
// once to the F16 they are stored in), then the threshold for the recall target on the first
// half of the held-out rows and the metrics on the second half, both on the rounded predictor
// (the one the runtime evaluates).
//
// Memory: N calibration tokens cost, per layer, N*dim*4 bytes of inputs plus N*neurons bytes of
// labels (plus N*neurons*2 bytes of fp16 magnitudes while collecting for SwiGLU/GELU models;
// those are turned into labels and freed one layer at a time). E.g. Llama-2-7B (dim 4096,
// 11008 neurons, 32 layers) with N = 4096: 2.1 GB inputs + 1.4 GB labels + 2.9 GB transient
// magnitudes; OPT-6.7B (16384 neurons, ReLU): 2.1 GB + 2.1 GB. Training adds per concurrently
// trained layer a few (batch_rows, neurons) float matrices and Adam state (3x the predictor).

#include "convert/predictor_train.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <Eigen/Core>
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <mutex>
#include <string>

#include "convert/predictor_fit.h"
#include "core/error.h"
#include "model/transformer.h"

namespace flashchat {

namespace {

constexpr int kMaxChunkTokens = 256;  // context length of one calibration sequence
constexpr int kCalibBlockTokens = 32;  // tokens per forward_batch while collecting activations

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
  if (!o.layer_ranks.empty() && static_cast<int>(o.layer_ranks.size()) != c.n_layers) {
    train_fail(std::to_string(o.layer_ranks.size()) + " layer ranks for " +
               std::to_string(c.n_layers) + " layers");
  }
}

void validate_options(const PredictorTrainOptions& o) {
  if (o.rank < 1 || o.rank_last_layers < -1 || o.n_last_layers < -1) {
    train_fail("rank must be >= 1 and rank_last_layers, n_last_layers >= -1");
  }
  for (int r : o.layer_ranks) {
    if (r < 1) train_fail("layer ranks must be >= 1");
  }
  if (o.steps < 1 || o.batch_rows < 1) train_fail("steps and batch_rows must be >= 1");
  if (!(o.learning_rate > 0.0f && std::isfinite(o.learning_rate))) {
    train_fail("learning_rate must be positive");
  }
  if (!(o.positive_weight_max >= 1.0f && std::isfinite(o.positive_weight_max))) {
    train_fail("positive_weight_max must be >= 1");
  }
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

// Rows held out of n_rows (at least one when the fraction is positive); throws when nothing
// would be left to train on.
int64_t holdout_rows(int64_t n_rows, float fraction) {
  int64_t n_hold = static_cast<int64_t>(std::llround(fraction * static_cast<double>(n_rows)));
  if (fraction > 0.0f) n_hold = std::max<int64_t>(n_hold, 1);
  if (n_rows - n_hold < 1) {
    train_fail(std::to_string(n_rows) + " rows leave none for training after holding out " +
               std::to_string(n_hold));
  }
  return n_hold;
}

// Where the rows of a layer go: [0, n_train) training, [select_first, select_last) choose the
// threshold, [report_first, report_last) give the metrics.
struct RowSplit {
  int64_t n_train = 0, select_first = 0, select_last = 0, report_first = 0, report_last = 0;
};

RowSplit row_split(int64_t n_rows, float holdout_fraction) {
  const int64_t n_hold = holdout_rows(n_rows, holdout_fraction);
  RowSplit s;
  s.n_train = n_rows - n_hold;
  if (n_hold == 0) {
    s.select_last = s.report_last = s.n_train;
  } else if (n_hold == 1) {
    s.select_first = s.report_first = s.n_train;
    s.select_last = s.report_last = n_rows;
  } else {
    s.select_first = s.n_train;
    s.select_last = s.report_first = s.n_train + n_hold / 2;
    s.report_last = n_rows;
  }
  return s;
}

// Trains, thresholds and scores one layer; returns an empty predictor when on_step cancelled.
Predictor layer_train(const float* x, const uint8_t* labels, const PredictorFitJob& job,
                      const RowSplit& split, int dim, int neurons, const PredictorTrainOptions& o,
                      const std::function<bool()>& on_step, PredictorMetrics& metrics,
                      float& bias_shift) {
  Predictor p = predictor_fit(x, labels, job, dim, neurons, o, on_step);
  if (p.rank == 0) return p;
  bias_shift = o.target_recall > 0.0f
                   ? predictor_threshold_select(p, x, labels, split.select_first,
                                                split.select_last, o.target_recall)
                   : 0.0f;
  metrics = predictor_evaluate(p, x, labels, split.report_first, split.report_last);
  return p;
}

}  // namespace

int predictor_rank_for_layer(const PredictorTrainOptions& o, int layer, int n_layers,
                             int max_rank) {
  if (!o.layer_ranks.empty()) {
    return std::clamp(o.layer_ranks[static_cast<size_t>(layer)], 1, std::max(1, max_rank));
  }
  const int n_last = o.n_last_layers >= 0 ? o.n_last_layers : (n_layers + 3) / 4;
  const bool last = layer >= n_layers - n_last;
  int wanted = o.rank;
  if (last && o.rank_last_layers != 0) {
    wanted = o.rank_last_layers > 0 ? o.rank_last_layers : 4 * o.rank;
  }
  return std::clamp(wanted, 1, std::max(1, max_rank));
}

Predictor predictor_train_layer(const float* x, const uint8_t* labels, int64_t n_rows, int dim,
                                int neurons, int rank, const PredictorTrainOptions& options,
                                PredictorMetrics* metrics, float* bias_shift) {
  validate_options(options);
  if (x == nullptr || labels == nullptr || n_rows < 1 || dim < 1 || neurons < 1 || rank < 1) {
    train_fail("bad layer data: " + std::to_string(n_rows) + " rows, dim " + std::to_string(dim) +
               ", " + std::to_string(neurons) + " neurons, rank " + std::to_string(rank));
  }
  const RowSplit split = row_split(n_rows, options.holdout_fraction);
  PredictorFitJob job;
  job.rank = std::clamp(rank, 1, std::min(dim, neurons));
  job.n_train = split.n_train;
  Progress progress(options);
  int64_t steps_done = 0;
  const std::function<bool()> on_step = [&] {
    ++steps_done;
    return progress.report(static_cast<double>(steps_done) / static_cast<double>(options.steps),
                           "training predictors");
  };
  if (!progress.report(0.0, "training predictors")) progress.throw_if_cancelled();
  PredictorMetrics m;
  float shift = 0.0f;
  Predictor p = layer_train(x, labels, job, split, dim, neurons, options, on_step, m, shift);
  progress.throw_if_cancelled();
  if (metrics != nullptr) *metrics = m;
  if (bias_shift != nullptr) *bias_shift = shift;
  return p;
}

TrainedPredictors predictor_train_all(const Model& model, const std::vector<int>& calib_tokens,
                                      const PredictorTrainOptions& options) {
  validate(model, calib_tokens, options);
  const ModelConfig& c = model.config;
  const int n_layers = c.n_layers, dim = c.dim, neurons = c.ffn_dim;
  const int64_t n_rows = static_cast<int64_t>(calib_tokens.size());
  const RowSplit split = row_split(n_rows, options.holdout_fraction);
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
  const auto t_collect = std::chrono::steady_clock::now();
  collect(model, calib_tokens, data, progress);
  const auto t_train = std::chrono::steady_clock::now();

  TrainedPredictors out;
  out.metric_rows = split.report_last - split.report_first;
  out.collect_seconds = std::chrono::duration<double>(t_train - t_collect).count();
  out.layers.resize(static_cast<size_t>(n_layers));
  out.thresholds.assign(static_cast<size_t>(n_layers), 0.0f);
  out.metrics.resize(static_cast<size_t>(n_layers));
  out.bias_shifts.assign(static_cast<size_t>(n_layers), 0.0f);
  if (!nonzero_labels) {
    for (int l = 0; l < n_layers; ++l) {
      out.thresholds[static_cast<size_t>(l)] = label_by_quantile(
          data[static_cast<size_t>(l)], n_rows, split.n_train, neurons, options.gated_sparsity);
    }
  }

  // Progress counts multiply-adds, so a layer of 4x the rank weighs 4x.
  std::vector<PredictorFitJob> jobs(static_cast<size_t>(n_layers));
  const int max_rank = std::min(dim, neurons);
  int64_t total_work = 0;
  for (int l = 0; l < n_layers; ++l) {
    PredictorFitJob& job = jobs[static_cast<size_t>(l)];
    job.layer = l;
    job.rank = predictor_rank_for_layer(options, l, n_layers, max_rank);
    job.n_train = split.n_train;
    total_work += int64_t{options.steps} * job.rank;
  }

  std::atomic<int64_t> work_done{0};
  tbb::parallel_for(
      tbb::blocked_range<int>(0, n_layers, 1), [&](const tbb::blocked_range<int>& range) {
        for (int l = range.begin(); l != range.end(); ++l) {
          if (progress.cancelled()) return;
          const LayerData& d = data[static_cast<size_t>(l)];
          const PredictorFitJob& job = jobs[static_cast<size_t>(l)];
          const std::function<bool()> on_step = [&] {
            const int64_t done = work_done += job.rank;
            return progress.report(
                0.5 + 0.5 * static_cast<double>(done) / static_cast<double>(total_work),
                "training predictors");
          };
          const size_t li = static_cast<size_t>(l);
          Predictor p = layer_train(d.x.data(), d.labels.data(), job, split, dim, neurons,
                                    options, on_step, out.metrics[li], out.bias_shifts[li]);
          if (progress.cancelled()) return;
          out.layers[li] = std::move(p);
        }
      });
  progress.throw_if_cancelled();
  out.train_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_train).count();
  return out;
}

}  // namespace flashchat
