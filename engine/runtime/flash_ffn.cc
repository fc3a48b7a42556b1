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
#include "runtime/bundle_ffn.h"
#include "runtime/cache_policy.h"

namespace flashchat {

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

constexpr int64_t kPage = 4096;

}  // namespace


// For flash_ffn_batch.cc, which sees Layer only through these.
LayerTelemetry& FlashFfn::layer_tel(int layer) { return layers_[static_cast<size_t>(layer)]->tel; }
const NeuronCache* FlashFfn::layer_cache(int layer) const {
  return layers_[static_cast<size_t>(layer)]->cache.get();
}

std::optional<FfnMode> ffn_mode_from_name(const std::string& name) {
  for (FfnMode m : {FfnMode::Dram, FfnMode::Naive, FfnMode::Mmap, FfnMode::Flash}) {
    if (name == ffn_mode_name(m)) return m;
  }
  return std::nullopt;
}

FlashFfn::FlashFfn(const FlashModel& fm, const FlashFfnOptions& options, int64_t fixed_bytes,
                   int64_t budget_bytes)
    : fm_(fm), layout_(fm.ffn), cfg_(fm.model->config), options_(options), fixed_bytes_(fixed_bytes) {
  if (options_.window < 1) fail("flash ffn", "window must be at least 1");
  const bool needs_predictor = options_.mode == FfnMode::Flash && !options_.oracle;
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
  for (auto* v : {&active_, &add_, &remove_, &extra_remove_, &overflow_, &victims_, &hit_rows_,
                  &new_rows_}) {
    v->reserve(n);
  }
  pick_scratch_.reserve(n);
  for (auto* v : {&prefetch_ids_, &prefetch_loaded_, &prefetch_old_stamp_}) v->reserve(n);
  split_rows_.reserve(static_cast<size_t>(layout_.n_layers));
  split_cap_.reserve(static_cast<size_t>(layout_.n_layers));
  split_demand_.reserve(static_cast<size_t>(layout_.n_layers));
  identity_ids_.resize(n);
  for (int32_t i = 0; i < layout_.neurons; ++i) identity_ids_[static_cast<size_t>(i)] = i;
  scratch_out_.resize(static_cast<size_t>(layout_.dim));

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

  const int32_t rows = capacity_rows_for(budget_bytes_, fixed_bytes_);  // before the layers exist
  layers_.resize(static_cast<size_t>(layout_.n_layers));
  for (auto& L : layers_) {
    L = std::make_unique<Layer>();
    if (options_.mode == FfnMode::Flash || options_.mode == FfnMode::Dram) {
      // Rows are reserved for what a layer may get of the capacity the budget buys now
      // (apply_capacity() grows them).
      L->cache = std::make_unique<NeuronCache>(layout_.neurons, layout_.bundle_bytes,
                                               reserve_rows_for(rows));
      L->window = std::make_unique<NeuronWindow>(layout_.neurons, options_.window);
      if (options_.mode == FfnMode::Flash) L->last_used.assign(n, -1);
    }
  }
  apply_capacity();
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

// The FFN's own state is bounded by budget_map_bytes (measured: state_bytes()) and comes out of
// the budget too.
int32_t FlashFfn::capacity_rows_for(int64_t budget_bytes, int64_t fixed_bytes) const {
  const int32_t rows = budget_cache_rows(layout_, options_.mode, options_.window, budget_bytes,
                                         fixed_bytes, io_plan_.total());
  if (layers_.empty() || !layers_.front() || !layers_.front()->cache || budget_bytes <= 0 ||
      options_.mode == FfnMode::Dram) {
    return rows;
  }
  // Once built, the row maps are held for every reserved row: rows up to the reservation pay
  // only their bundles (the maps are already charged); more rows mean a larger matrix.
  const int64_t reserved = layers_.front()->cache->max_capacity();
  if (rows > reserved) return rows;
  const int64_t free_bytes = budget_bytes - fixed_bytes - io_plan_.total() -
                             budget_map_bytes(layout_, options_.mode, options_.window) -
                             reserved * 4 * layout_.n_layers;
  return static_cast<int32_t>(std::clamp<int64_t>(
      free_bytes / (layout_.bundle_bytes * layout_.n_layers), 0, reserved));
}

int32_t FlashFfn::reserve_rows_for(int32_t even_rows) const {
  if (options_.mode != FfnMode::Flash || budget_bytes_ <= 0) return even_rows;
  return static_cast<int32_t>(std::min<int64_t>(layout_.neurons, 2 * int64_t{even_rows}));
}

int64_t FlashFfn::state_bytes() const {
  int64_t bytes = static_cast<int64_t>((identity_ids_.capacity() + active_.capacity() +
                                        add_.capacity() + remove_.capacity() +
                                        extra_remove_.capacity() + overflow_.capacity() +
                                        victims_.capacity() + hit_rows_.capacity() +
                                        new_rows_.capacity() + split_rows_.capacity() +
                                        prefetch_ids_.capacity() + prefetch_loaded_.capacity() +
                                        prefetch_old_stamp_.capacity() +
                                        split_cap_.capacity()) *
                                           sizeof(int32_t) +
                                       pick_scratch_.capacity() * sizeof(pick_scratch_[0]) +
                                       split_demand_.capacity() * sizeof(double) +
                                       (scratch_out_.capacity() + hidden_.capacity() +
                                        pred_scratch_.capacity()) * sizeof(float) +
                                       runs_.capacity() * sizeof(ReadRun) +
                                       dsts_.capacity() * sizeof(uint8_t*));
  for (const auto& L : layers_) {
    if (!L) continue;
    if (L->cache) bytes += L->cache->map_bytes();
    if (L->window) bytes += L->window->state_bytes();
    bytes += static_cast<int64_t>(L->last_used.capacity() * sizeof(int32_t));
  }
  return bytes + store_.async_state_bytes();
}

int64_t FlashFfn::cache_bytes() const {
  int64_t total = 0;
  for (const auto& L : layers_) {
    if (L->cache) total += static_cast<int64_t>(L->cache->capacity()) * layout_.bundle_bytes;
  }
  return total;
}

void FlashFfn::apply_capacity() {
  const int32_t rows = capacity_rows_for(budget_bytes_, fixed_bytes_);
  for (auto& L : layers_) {
    if (!L->cache || rows <= L->cache->max_capacity()) continue;
    // More rows than reserved: a new, larger matrix (a settings change, not per token). The
    // neurons held are dropped and reload as the window asks for them.
    L->cache = std::make_unique<NeuronCache>(layout_.neurons, layout_.bundle_bytes,
                                             reserve_rows_for(rows));
    L->window = std::make_unique<NeuronWindow>(layout_.neurons, options_.window);
    if (!L->last_used.empty()) std::fill(L->last_used.begin(), L->last_used.end(), -1);
  }
  rebalance_capacity(rows);
}

void FlashFfn::rebalance_capacity(int32_t even_rows) {
  if (layers_.empty() || !layers_.front()->cache) return;
  const size_t n_layers = layers_.size();
  split_rows_.assign(n_layers, even_rows);
  if (lazy_eviction()) {
    // Rows follow each layer's demand (before any token: evenly), within its reservation.
    split_demand_.resize(n_layers);
    split_cap_.resize(n_layers);
    for (size_t l = 0; l < n_layers; ++l) {
      split_demand_[l] = layers_[l]->demand;
      split_cap_[l] = layers_[l]->cache->max_capacity();
    }
    cache_split_rows(int64_t{even_rows} * static_cast<int64_t>(n_layers), split_demand_,
                     split_cap_, split_rows_);
  }
  for (size_t l = 0; l < n_layers; ++l) {
    layer_set_capacity(*layers_[l], std::min(split_rows_[l], layers_[l]->cache->max_capacity()));
  }
}

void FlashFfn::layer_set_capacity(Layer& L, int32_t rows) {
  NeuronCache& cache = *L.cache;
  if (cache.used_rows() > rows && !L.last_used.empty()) {
    // Shrinking: the least recently used neurons go (swap with last), the rest stay.
    cache_pick_victims(std::span<const int32_t>(cache.row_to_neuron().data(),
                                                static_cast<size_t>(cache.used_rows())),
                       L.last_used, std::numeric_limits<int32_t>::max(),
                       cache.used_rows() - rows, victims_, pick_scratch_);
    cache.remove_many(victims_);
    L.tel.neurons_removed += static_cast<int32_t>(victims_.size());
  }
  // Without last-use stamps (dram mode) the rows past the capacity are dropped; they stay in the
  // window's sets and reload if needed again.
  (void)cache.set_capacity(rows);
  // Give back the memory of rows beyond the capacity (whole pages only).
  if (cache.max_capacity() == 0) return;
  const uintptr_t base = reinterpret_cast<uintptr_t>(cache.row_data(0));
  const uintptr_t begin = base + static_cast<uintptr_t>(rows) * layout_.bundle_bytes;
  const uintptr_t end = base + static_cast<uintptr_t>(cache.max_capacity()) * layout_.bundle_bytes;
  const uintptr_t page_begin = (begin + kPage - 1) / kPage * kPage;
  if (end > page_begin) {
    madvise(reinterpret_cast<void*>(page_begin), end - page_begin, MADV_DONTNEED);
  }
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
  apply_capacity();
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
  apply_capacity();
}

void FlashFfn::load_all_layers() {
  for (int l = 0; l < layout_.n_layers; ++l) {
    Layer& L = *layers_[static_cast<size_t>(l)];
    L.cache->clear();
    for (int32_t i = 0; i < layout_.neurons; ++i) L.cache->append(i);
    store_.read(layout_.bundle_offset(l, 0),
                static_cast<uint64_t>(layout_.neurons) * layout_.bundle_bytes,
                L.cache->row_data(0));
  }
  store_.reset_counters();  // the one-time load is not per-token traffic
}

void FlashFfn::begin_token() {
  prefetch_collect();  // a look-ahead of an interrupted token (its rows are complete after this)
  predictor_ms_ = io_ms_ = io_hidden_ms_ = memory_ms_ = 0;
  bytes_read_ = requests_ = 0;
  window_in_force_ = options_.window;
  for (auto& L : layers_) L->tel = LayerTelemetry();
  ++token_now_;
  if (lazy_eviction() && token_now_ > 0 && token_now_ % kRebalanceTokens == 0) {
    // The layers' demand moved: re-split the rows (shrinking layers evict their oldest).
    const auto t0 = Clock::now();
    rebalance_capacity(capacity_rows_for(budget_bytes_, fixed_bytes_));
    memory_ms_ += ms_since(t0);
  }
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
                     scratch_out_.data(), hidden.data());
}

void FlashFfn::select_active(int layer, const float* x, Layer& L) {
  active_.clear();
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
  L.tel.neurons_predicted = static_cast<int32_t>(active_.size());
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
    L.tel.true_active = true_active;
    L.tel.true_positive = true_positive;
  }
}

// Reads the bundles of `count` neurons (ascending ids) into dsts[i]. With bundling, neurons
// adjacent on disk and in memory become one run; without, the gate/up rows and the down column
// of every neuron are separate requests (the layout the paper's bundling replaces).
void FlashFfn::build_runs(int layer, const int32_t* neurons, int32_t count,
                          const std::vector<uint8_t*>& dsts) {
  runs_.clear();
  if (options_.bundling) {
    bundle_runs_append(layout_.bundle_offset(layer, 0), layout_.bundle_bytes,
                       std::span<const int32_t>(neurons, static_cast<size_t>(count)),
                       std::span<uint8_t* const>(dsts.data(), static_cast<size_t>(count)), runs_);
  } else {
    const uint64_t first = static_cast<uint64_t>(layout_.down_offset());
    const uint64_t part = static_cast<uint64_t>(layout_.part_bytes());
    for (int32_t i = 0; i < count; ++i) {
      const uint64_t offset = layout_.bundle_offset(layer, neurons[i]);
      runs_.push_back({offset, first, dsts[static_cast<size_t>(i)]});
      runs_.push_back({offset + first, part, dsts[static_cast<size_t>(i)] + first});
    }
  }
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
    bundle_ffn_compute(layout_, cfg_, io_buffer_.get(), n, neurons + start, up_bias(layer), x, out);
  }
}

void FlashFfn::ffn_forward(int layer, const float* x, float* out) {
  Layer& L = *layers_[static_cast<size_t>(layer)];
  const int64_t dim = layout_.dim;
  std::fill(out, out + dim, 0.0f);
  const LayerWeights& w = fm_.model->weights.layers[static_cast<size_t>(layer)];
  const float* fc1_bias = up_bias(layer);

  switch (options_.mode) {
    case FfnMode::Dram:
      bundle_ffn_compute(layout_, cfg_, L.cache->row_data(0), L.cache->used_rows(),
                         L.cache->row_to_neuron().data(), fc1_bias, x, out);
      L.tel.neurons_predicted = layout_.neurons;
      break;
    case FfnMode::Mmap:
      bundle_ffn_compute(layout_, cfg_, map_->data() + layout_.bundle_offset(layer, 0),
                         layout_.neurons, identity_ids_.data(), fc1_bias, x, out);
      L.tel.neurons_predicted = layout_.neurons;
      break;
    case FfnMode::Naive:
      stream_and_compute(layer, identity_ids_.data(), layout_.neurons, x, out);
      L.tel.neurons_predicted = layout_.neurons;
      L.tel.neurons_streamed = layout_.neurons;
      break;
    case FfnMode::Flash:
      flash_forward(layer, x, out, L);
      break;
  }
  if (!w.ffn_down_bias.empty()) {
    const float* b = w.ffn_down_bias.f32();
    for (int64_t i = 0; i < dim; ++i) out[i] += b[i];
  }
  if (L.cache) {
    L.tel.cache_rows_used = L.cache->used_rows();
    L.tel.cache_capacity = L.cache->capacity();
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
  t.window_in_force = options_.mode == FfnMode::Flash ? window_in_force_ : 0;
  t.budget_bytes = budget_bytes_;
  t.dram.neuron_cache = 0;  // rows resident (written), not merely reserved
  for (const auto& L : layers_) {
    if (L->cache) t.dram.neuron_cache += L->cache->touched_bytes();
  }
  t.dram.io_buffers = io_buffer_bytes();
  t.ffn_neurons_total = static_cast<int64_t>(layout_.neurons) * layout_.n_layers;
  t.ffn_neurons_loaded = 0;
  t.layers.clear();
  for (const auto& L : layers_) {
    t.layers.push_back(L->tel);
    t.ffn_neurons_loaded += L->tel.neurons_added + L->tel.neurons_streamed;
  }
}

}  // namespace flashchat
