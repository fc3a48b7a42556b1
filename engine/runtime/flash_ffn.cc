#include "runtime/flash_ffn.h"

#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "core/error.h"
#include "core/units.h"
#include "flash/predictor.h"
#include "compute/matvec.h"
#include "runtime/bundle_ffn.h"

namespace flashchat {

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

constexpr int64_t kPage = 4096;

}  // namespace



std::optional<FfnMode> ffn_mode_from_name(const std::string& name) {
  for (FfnMode m : {FfnMode::Dram, FfnMode::Naive, FfnMode::Mmap, FfnMode::Flash}) {
    if (name == ffn_mode_name(m)) return m;
  }
  return std::nullopt;
}

FlashFfn::FlashFfn(const FlashModel& fm, const FlashFfnOptions& options, int64_t fixed_bytes,
                   int64_t budget_bytes)
    : fm_(fm), layout_(fm.ffn), cfg_(fm.model->config), options_(options), fixed_bytes_(fixed_bytes),
      open_fixed_bytes_(fixed_bytes) {
  if (options_.window < 1) fail("flash ffn", "window must be at least 1");
  // In the exact gate mode the resident gate picks the neurons: no predictors.
  const bool needs_predictor =
      options_.mode == FfnMode::Flash && !options_.oracle && !layout_.gate_resident;
  if (needs_predictor && static_cast<int>(fm_.predictors.size()) != layout_.n_layers) {
    fail(fm_.dir, "this flash model has no predictors; convert it with predictors or use "
                  "--oracle / another mode");
  }
  // Scratch reserved whole so that nothing grows while tokens run (budget_map_bytes counts it).
  const size_t n = static_cast<size_t>(layout_.neurons);
  hidden_.reserve(n);
  pred_scratch_.reserve(n + 1024);
  runs_.reserve(2 * n);
  dsts_.reserve(n);
  active_.reserve(n);
  for (auto* v : {&prefetch_ids_, &prefetch_loaded_, &prefetch_old_stamp_, &prefetch_drop_}) {
    v->reserve(n);
  }
  identity_ids_.resize(n);
  for (int32_t i = 0; i < layout_.neurons; ++i) identity_ids_[static_cast<size_t>(i)] = i;
  scratch_out_.resize(static_cast<size_t>(layout_.dim));
  if (layout_.gate_resident) {
    if (fm_.gate_thresholds.size() != static_cast<size_t>(layout_.n_layers)) {
      fail(fm_.dir, "gate-resident model without a gate threshold per layer");
    }
    gate_act_.resize(n);
    gate_one_.assign(n, 1.0f);
  }

  io_plan_ = budget_io_plan(layout_, options_.mode, options_.direct_io, options_.store);
  budget_bytes_ = budget_bytes;
  // Checked before anything is allocated or opened (the staging counted at its largest).
  budget_check(budget_bytes_, budget_minimum_bytes(layout_, options_.mode, options_.window,
                                                   fixed_bytes_, io_plan_.total()),
               options_.mode);

  const bool uses_store = options_.mode == FfnMode::Flash || options_.mode == FfnMode::Naive ||
                          options_.mode == FfnMode::Dram;
  if (uses_store) store_.open(fm_.ffn_path, options_.direct_io, io_plan_.store);
  if (options_.mode == FfnMode::Mmap || options_.oracle || options_.evaluate_predictor) {
    map_ = mapped_file_open(fm_.ffn_path);
  }
  io_buffer_rows_ = io_plan_.buffer_rows;
  io_buffer_.reset(static_cast<uint8_t*>(
      std::aligned_alloc(kPage, static_cast<size_t>(io_plan_.buffer_bytes))));
  if (!io_buffer_) fail("flash ffn", "cannot allocate the I/O buffer");

  if (options_.mode == FfnMode::Flash || options_.mode == FfnMode::Dram) {
    planner_ = std::make_unique<CachePlanner>(layout_, options_.mode, options_.window,
                                              io_plan_.total(), budget_bytes_, fixed_bytes_);
    released_rows_.assign(static_cast<size_t>(layout_.n_layers), -1);
    release_rows();
  } else {
    tel_.resize(static_cast<size_t>(layout_.n_layers));
  }
  if (options_.mode == FfnMode::Dram) load_all_layers();
}

FlashFfn::~FlashFfn() {
  // A look-ahead read still in flight writes into cache rows: let it land before they go.
  if (prefetch_layer_ >= 0) {
    try {
      store_.read_runs_wait();
    } catch (...) {
      // Nothing is left to report to.
    }
  }
}

void FlashFfn::FreeDeleter::operator()(uint8_t* p) const { std::free(p); }

int64_t FlashFfn::io_buffer_bytes() const {
  return io_plan_.buffer_bytes + store_.staging_bytes();
}

int64_t FlashFfn::minimum_budget_bytes() const {
  return budget_minimum_bytes(layout_, options_.mode, options_.window, fixed_bytes_,
                              io_buffer_bytes());
}

int64_t FlashFfn::state_bytes() const {
  int64_t bytes = static_cast<int64_t>((identity_ids_.capacity() + active_.capacity() +
                                        released_rows_.capacity() + prefetch_ids_.capacity() +
                                        prefetch_loaded_.capacity() +
                                        prefetch_old_stamp_.capacity() +
                                        prefetch_drop_.capacity()) * sizeof(int32_t) +
                                       (scratch_out_.capacity() + hidden_.capacity() +
                                        pred_scratch_.capacity() + gate_act_.capacity() +
                                        gate_one_.capacity()) * sizeof(float) +
                                       runs_.capacity() * sizeof(ReadRun) +
                                       dsts_.capacity() * sizeof(uint8_t*));
  for (const auto& r : recorded_) bytes += static_cast<int64_t>(r.capacity() * sizeof(int32_t));
  if (planner_) bytes += planner_->state_bytes();
  return bytes;
}

int64_t FlashFfn::cache_bytes() const {
  int64_t total = 0;
  for (int l = 0; planner_ && l < planner_->n_layers(); ++l) {
    total += static_cast<int64_t>(planner_->cache(l).capacity()) * layout_.bundle_bytes;
  }
  return total;
}

void FlashFfn::release_rows() {
  for (int l = 0; l < planner_->n_layers(); ++l) {
    const NeuronCache& cache = planner_->cache(l);
    // Rows past the capacity are never written: nothing to give back until it shrinks again.
    if (cache.capacity() == released_rows_[static_cast<size_t>(l)]) continue;
    released_rows_[static_cast<size_t>(l)] = cache.capacity();
    if (cache.max_capacity() == 0) continue;
    // Whole pages only.
    const uintptr_t base = reinterpret_cast<uintptr_t>(cache.row_data(0));
    const uintptr_t begin = base + static_cast<uintptr_t>(cache.capacity()) * layout_.bundle_bytes;
    const uintptr_t end =
        base + static_cast<uintptr_t>(cache.max_capacity()) * layout_.bundle_bytes;
    const uintptr_t page_begin = (begin + kPage - 1) / kPage * kPage;
    if (end > page_begin) {
      madvise(reinterpret_cast<void*>(page_begin), end - page_begin, MADV_DONTNEED);
    }
  }
}

void FlashFfn::set_record_active(bool on) {
  on = on && options_.mode == FfnMode::Flash;
  if (on == record_active_) return;
  record_active_ = on;
  recorded_.assign(record_active_ ? static_cast<size_t>(layout_.n_layers) : 0, {});
}

void FlashFfn::set_window(int k) { set_window_and_budget(k, budget_bytes_); }

void FlashFfn::set_budget(int64_t budget_bytes) {
  set_window_and_budget(options_.window, budget_bytes);
}

void FlashFfn::set_window_and_budget(int k, int64_t budget_bytes) {
  if (k < 1) fail("window", "must be at least 1");
  if (k == options_.window && budget_bytes == budget_bytes_) return;
  // The window's sets are part of the state bound: a larger k needs room, a smaller one frees it.
  const int64_t minimum =
      budget_minimum_bytes(layout_, options_.mode, k, fixed_bytes_, io_buffer_bytes());
  if (k != options_.window && budget_bytes > 0 && budget_bytes < minimum) {
    fail("window", "k = " + std::to_string(k) + " needs a budget of at least " +
                       size_format_bytes(minimum));
  }
  budget_check(budget_bytes, minimum, options_.mode);
  options_.window = k;  // applied per layer at the next token (NeuronWindow::set_k)
  budget_bytes_ = budget_bytes;
  if (planner_) {
    planner_->set_window_and_budget(k, budget_bytes);
    release_rows();
  }
}

void FlashFfn::set_fixed_bytes(int64_t fixed_bytes) {
  if (fixed_bytes == fixed_bytes_) return;
  // Rows may go down to none (the active neurons are then streamed, still exact); what must fit
  // is everything else.
  const int64_t needed =
      fixed_bytes + io_buffer_bytes() + budget_map_bytes(layout_, options_.mode, options_.window);
  if (budget_bytes_ > 0 && needed > budget_bytes_) {
    fail("budget", size_format_bytes(budget_bytes_) + " no longer holds the " +
                       size_format_bytes(needed) + " needed besides the neuron cache");
  }
  fixed_bytes_ = fixed_bytes;
  if (planner_) {
    planner_->set_fixed_bytes(fixed_bytes);
    release_rows();
  }
}

void FlashFfn::load_all_layers() {
  for (int l = 0; l < layout_.n_layers; ++l) {
    NeuronCache& cache = planner_->cache(l);
    cache.clear();
    for (int32_t i = 0; i < layout_.neurons; ++i) cache.append(i);
    store_.read(layout_.bundle_offset(l, 0),
                static_cast<uint64_t>(layout_.neurons) * layout_.bundle_bytes, cache.row_data(0));
  }
  store_.reset_counters();  // the one-time load is not per-token traffic
}

void FlashFfn::set_evaluate_predictor(bool on) {
  if (on && !map_) map_ = mapped_file_open(fm_.ffn_path);
  options_.evaluate_predictor = on;
  if (!on) eval_.reset();
}

void FlashFfn::begin_token() {
  prefetch_collect();  // a look-ahead of an interrupted token (its rows are complete after this)
  recorded_block_ = false;
  const bool evaluate = record_active_ && options_.evaluate_predictor && !options_.oracle &&
                        options_.mode == FfnMode::Flash;
  if (evaluate) {
    eval_ = std::make_shared<ActiveEvaluation>();  // the view may still hold the last one
    const size_t layers = static_cast<size_t>(layout_.n_layers);
    eval_->truly_active.resize(layers);
    eval_->score.resize(layers);
    eval_->activation.resize(layers);
  } else {
    eval_.reset();
  }
  predictor_ms_ = io_ms_ = io_hidden_ms_ = memory_ms_ = 0;
  bytes_read_ = requests_ = 0;
  for (auto& t : tel_) t = LayerTelemetry();
  if (!planner_) return;
  // Every kRebalanceTokens tokens the rows are re-split by demand (shrinking layers evict).
  const auto t0 = Clock::now();
  planner_->begin_token();
  release_rows();
  memory_ms_ += ms_since(t0);
}

const float* FlashFfn::up_bias(int layer) const {
  const Tensor& b = fm_.model->weights.layers[static_cast<size_t>(layer)].ffn_up_bias;
  return b.empty() ? nullptr : b.f32();
}

// Hidden values h (neurons,) of every neuron, from the mapped file (oracle / evaluation only).
void FlashFfn::true_hidden(int layer, const float* x, std::vector<float>& hidden) {
  hidden.resize(static_cast<size_t>(layout_.neurons));
  std::fill(scratch_out_.begin(), scratch_out_.end(), 0.0f);
  bundle_ffn_compute(layout_, cfg_, map_->data() + layout_.bundle_offset(layer, 0),
                     layout_.neurons, identity_ids_.data(), up_bias(layer), x,
                     scratch_out_.data(), hidden.data(), nullptr, aux(layer));
}

// act(W_gate x) (neurons,): the gate rows times x, through the activation with up = 1.
void FlashFfn::gate_compute(int layer, const float* x) {
  const auto t0 = Clock::now();
  const Tensor& gate = fm_.model->weights.layers[static_cast<size_t>(layer)].ffn_gate;
  matvec(gate, x, gate_act_.data());
  ffn_activate(cfg_, gate_act_.data(), gate_one_.data(), gate_act_.data(), layout_.neurons);
  predictor_ms_ += ms_since(t0);
}

void FlashFfn::select_active(int layer, const float* x) {
  active_.clear();
  if (layout_.gate_resident && !options_.oracle) {
    // Exact gate mode: the neurons whose |act(gate . x)| passes the layer's threshold.
    const float t = fm_.gate_thresholds[static_cast<size_t>(layer)];
    for (int32_t i = 0; i < layout_.neurons; ++i) {
      if (std::fabs(gate_act_[static_cast<size_t>(i)]) > t) active_.push_back(i);
    }
    tel(layer).neurons_predicted = static_cast<int32_t>(active_.size());
    return;
  }
  const bool need_truth = options_.oracle || options_.evaluate_predictor;
  if (need_truth) true_hidden(layer, x, hidden_);
  if (options_.oracle) {
    for (int32_t i = 0; i < layout_.neurons; ++i) {
      if (hidden_[static_cast<size_t>(i)] != 0.0f) active_.push_back(i);
    }
  } else {
    auto t0 = Clock::now();
    predictor_predict(fm_.predictors[static_cast<size_t>(layer)], x, active_, pred_scratch_);
    predictor_ms_ += ms_since(t0);
  }
  LayerTelemetry& lt = tel(layer);
  lt.neurons_predicted = static_cast<int32_t>(active_.size());
  if (options_.evaluate_predictor) {
    const float threshold =
        layer < static_cast<int>(fm_.thresholds.size()) ? fm_.thresholds[layer] : 0.0f;
    int32_t true_active = 0, true_positive = 0;
    size_t j = 0;  // active_ is ascending
    for (int32_t i = 0; i < layout_.neurons; ++i) {
      const bool is_true = std::fabs(hidden_[static_cast<size_t>(i)]) > threshold;
      while (j < active_.size() && active_[j] < i) ++j;
      const bool predicted = j < active_.size() && active_[j] == i;
      true_active += is_true;
      true_positive += is_true && predicted;
    }
    lt.true_active = true_active;
    lt.true_positive = true_positive;
    if (eval_ && !options_.oracle) {
      // The view's copy: truly active ids, scores (predictor_predict left z = B(Ax) after its
      // rank entries) and activations.
      const size_t li = static_cast<size_t>(layer);
      const Predictor& p = fm_.predictors[li];
      auto& truly = eval_->truly_active[li];
      auto& score = eval_->score[li];
      truly.clear();
      score.resize(static_cast<size_t>(layout_.neurons));
      for (int32_t i = 0; i < layout_.neurons; ++i) {
        const size_t ni = static_cast<size_t>(i);
        if (std::fabs(hidden_[ni]) > threshold) truly.push_back(i);
        const float z = pred_scratch_[static_cast<size_t>(p.rank) + ni] + p.bias[ni];
        score[ni] = 1.0f / (1.0f + std::exp(-z));
      }
      eval_->activation[li].assign(hidden_.begin(), hidden_.begin() + layout_.neurons);
    }
  }
}

// Reads the bundles of `count` neurons (ascending ids) into dsts[i]. With bundling, neurons
// adjacent on disk and in memory become one run; without, the gate/up rows and the down column
// of every neuron are separate requests (the layout the paper's bundling replaces).
void FlashFfn::build_runs(int layer, const int32_t* neurons, int32_t count,
                          const std::vector<uint8_t*>& dsts) {
  runs_.clear();
  ffn_runs_append(layout_, layer, options_.bundling,
                  std::span<const int32_t>(neurons, static_cast<size_t>(count)),
                  std::span<uint8_t* const>(dsts.data(), static_cast<size_t>(count)), runs_);
}

void FlashFfn::read_bundles(int layer, const int32_t* neurons, int32_t count,
                            const std::vector<uint8_t*>& dsts) {
  build_runs(layer, neurons, count, dsts);
  if (runs_.empty()) return;
  const FlashStore::Counters before = store_.counters();
  store_.read_runs(runs_);
  const FlashStore::Counters& after = store_.counters();
  io_ms_ += after.io_ms - before.io_ms;
  bytes_read_ += after.bytes_read - before.bytes_read;
  requests_ += after.requests - before.requests;
}

// Reads `count` neurons (ascending ids) through the I/O buffer chunk by chunk and accumulates
// their FFN contribution into out: for neurons that do not fit the cache, and for naive mode.
void FlashFfn::stream_and_compute(int layer, const int32_t* neurons, int32_t count,
                                  const float* x, float* out) {
  for (int32_t start = 0; start < count; start += io_buffer_rows_) {
    const int32_t n = std::min(io_buffer_rows_, count - start);
    dsts_.clear();
    for (int32_t i = 0; i < n; ++i) dsts_.push_back(io_buffer_.get() + int64_t{i} * layout_.bundle_bytes);
    read_bundles(layer, neurons + start, n, dsts_);
    bundle_ffn_compute(layout_, cfg_, io_buffer_.get(), n, neurons + start, up_bias(layer), x, out,
                       nullptr, nullptr, aux(layer));
  }
}

void FlashFfn::ffn_forward(int layer, const float* x, float* out) {
  const int64_t dim = layout_.dim;
  std::fill(out, out + dim, 0.0f);
  if (layout_.gate_resident) gate_compute(layer, x);
  const LayerWeights& w = fm_.model->weights.layers[static_cast<size_t>(layer)];
  const float* fc1_bias = up_bias(layer);

  switch (options_.mode) {
    case FfnMode::Dram: {
      const NeuronCache& cache = planner_->cache(layer);
      bundle_ffn_compute(layout_, cfg_, cache.row_data(0), cache.used_rows(),
                         cache.row_to_neuron().data(), fc1_bias, x, out, nullptr, nullptr,
                         aux(layer));
      tel(layer).neurons_predicted = layout_.neurons;
      break;
    }
    case FfnMode::Mmap:
      bundle_ffn_compute(layout_, cfg_, map_->data() + layout_.bundle_offset(layer, 0),
                         layout_.neurons, identity_ids_.data(), fc1_bias, x, out, nullptr, nullptr,
                         aux(layer));
      tel(layer).neurons_predicted = layout_.neurons;
      break;
    case FfnMode::Naive:
      stream_and_compute(layer, identity_ids_.data(), layout_.neurons, x, out);
      tel(layer).neurons_predicted = layout_.neurons;
      tel(layer).neurons_streamed = layout_.neurons;
      break;
    case FfnMode::Flash:
      flash_forward(layer, x, out);
      break;
  }
  if (!w.ffn_down_bias.empty()) {
    const float* b = w.ffn_down_bias.f32();
    for (int64_t i = 0; i < dim; ++i) out[i] += b[i];
  }
  if (planner_) {
    tel(layer).cache_rows_used = planner_->cache(layer).used_rows();
    tel(layer).cache_capacity = planner_->cache(layer).capacity();
  }
}

void FlashFfn::fill_telemetry(TokenTelemetry& t) const {
  t.mode = ffn_mode_name(options_.mode);
  t.predictor_ms = predictor_ms_;
  t.io_ms = io_ms_;
  t.io_hidden_ms = io_hidden_ms_;
  t.memory_ms = memory_ms_;
  t.bytes_read = bytes_read_;
  t.read_requests = requests_;
  t.window_requested = options_.window;
  t.window_in_force = options_.mode == FfnMode::Flash ? planner_->window_in_force() : 0;
  t.budget_bytes = budget_bytes_;
  t.dram.neuron_cache = 0;  // rows resident (written), not merely reserved
  for (int l = 0; planner_ && l < planner_->n_layers(); ++l) {
    t.dram.neuron_cache += planner_->cache(l).touched_bytes();
  }
  t.dram.io_buffers = io_buffer_bytes();
  t.ffn_neurons_total = static_cast<int64_t>(layout_.neurons) * layout_.n_layers;
  t.ffn_neurons_loaded = 0;
  t.layers.clear();
  for (int l = 0; l < layout_.n_layers; ++l) {
    const LayerTelemetry& lt =
        planner_ ? planner_->layer_telemetry(l) : tel_[static_cast<size_t>(l)];
    t.layers.push_back(lt);
    t.ffn_neurons_loaded += lt.neurons_added + lt.neurons_streamed;
  }
}

}  // namespace flashchat
