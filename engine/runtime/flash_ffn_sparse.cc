// flash_ffn_sparse.cc - FlashFfn's flash mode, one layer of one token: predict, admit the misses
// into the neuron cache, read them while the cached rows are multiplied, multiply the new rows.
#include <algorithm>
#include <chrono>
#include <span>

#include "flash/predictor.h"
#include "runtime/bundle_ffn.h"
#include "runtime/flash_ffn.h"

namespace flashchat {

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

}  // namespace


bool FlashFfn::prefetch_wanted() const {
  return options_.mode == FfnMode::Flash && options_.prefetch && !options_.oracle &&
         !layout_.gate_resident;
}

void FlashFfn::ffn_prefetch(int layer, const float* x) {
  if (!prefetch_wanted()) return;
  prefetch_collect();  // an earlier look-ahead nobody collected (an interrupted token)
  const auto t0 = Clock::now();
  predictor_predict(fm_.predictors[static_cast<size_t>(layer)], x, prefetch_ids_, pred_scratch_);
  predictor_ms_ += ms_since(t0);
  const auto t_mem = Clock::now();
  NeuronCache& cache = planner_->cache(layer);
  prefetch_loaded_.clear();
  for (const int32_t n : prefetch_ids_) {
    if (!cache.contains(n)) prefetch_loaded_.push_back(n);
  }
  int32_t in_force = options_.window;
  const int32_t fit = planner_->admit_rows(layer, prefetch_loaded_, in_force);
  prefetch_loaded_.resize(static_cast<size_t>(fit));  // the rest: read when the layer asks
  planner_->window_in_force_lower(in_force);
  // Stamped as this token's until the layer's own prediction: the rows being filled are not
  // handed out again meanwhile; those the layer then does not predict get their stamps back.
  prefetch_old_stamp_.clear();
  for (const int32_t n : prefetch_loaded_) {
    prefetch_old_stamp_.push_back(planner_->last_used(layer)[static_cast<size_t>(n)]);
    planner_->stamp_set(layer, n, planner_->token_now());
  }
  LayerTelemetry& lt = tel(layer);
  lt.neurons_added += fit;
  lt.neurons_prefetched = fit;
  dsts_.clear();
  for (const int32_t r : planner_->admission().new_rows) dsts_.push_back(cache.row_data(r));
  memory_ms_ += ms_since(t_mem);
  build_runs(layer, prefetch_loaded_.data(), fit, dsts_);
  if (runs_.empty()) return;
  prefetch_before_ = store_.counters();
  try {
    store_.read_runs_async(runs_);
  } catch (...) {
    cache.remove_many(prefetch_loaded_);
    throw;
  }
  prefetch_layer_ = layer;
}

void FlashFfn::prefetch_collect() {
  if (prefetch_layer_ < 0) return;
  const int layer = prefetch_layer_;
  prefetch_layer_ = -1;
  const auto t_wait = Clock::now();
  try {
    store_.read_runs_wait();
  } catch (...) {
    planner_->cache(layer).remove_many(prefetch_loaded_);
    prefetch_loaded_.clear();
    throw;
  }
  const double wait_ms = ms_since(t_wait);
  const FlashStore::Counters& after = store_.counters();
  const double read_ms = after.io_ms - prefetch_before_.io_ms;
  io_ms_ += wait_ms;
  io_hidden_ms_ += std::max(0.0, read_ms - wait_ms);
  bytes_read_ += after.bytes_read - prefetch_before_.bytes_read;
  requests_ += after.requests - prefetch_before_.requests;
}

// rows[] of the layer's cache (rows x [gate|up|down]), x (dim,) -> out (dim,) +=
void FlashFfn::flash_compute_selected(int layer, const std::vector<int32_t>& rows, const float* x,
                                      float* out) {
  if (rows.empty()) return;
  const NeuronCache& cache = planner_->cache(layer);
  bundle_ffn_compute_selected(layout_, cfg_, cache.data(), cache.used_rows(),
                              cache.row_to_neuron().data(), rows.data(),
                              static_cast<int32_t>(rows.size()), up_bias(layer), x, out, nullptr,
                              nullptr, aux(layer));
}

void FlashFfn::flash_forward(int layer, const float* x, float* out) {
  prefetch_collect();
  select_active(layer, x);
  if (record_active_) recorded_[static_cast<size_t>(layer)].assign(active_.begin(), active_.end());
  // Memory management: room is made (least recently used evicted, or the window's leavers
  // without a budget) and rows reserved for this token's misses (cache_planner.h).
  const auto t_mem = Clock::now();
  if (!prefetch_loaded_.empty()) {
    // The look-ahead's neurons this layer did not predict get their stamps back (the oldest go
    // first when rows are needed); those it did predict are hits now.
    // Without a budget only the window stays cached: the unused ones go at once.
    LayerTelemetry& lt = tel(layer);
    prefetch_drop_.clear();
    for (size_t i = 0; i < prefetch_loaded_.size(); ++i) {
      const int32_t n = prefetch_loaded_[i];
      if (std::binary_search(active_.begin(), active_.end(), n)) {
        ++lt.prefetch_used;
      } else {
        planner_->stamp_set(layer, n, prefetch_old_stamp_[i]);
        if (!planner_->lazy_eviction()) prefetch_drop_.push_back(n);
      }
    }
    planner_->cache(layer).remove_many(prefetch_drop_);
    lt.neurons_removed += static_cast<int32_t>(prefetch_drop_.size());
    prefetch_loaded_.clear();
  }
  const CacheAdmission& adm = planner_->admit(layer, active_);
  NeuronCache& cache = planner_->cache(layer);
  dsts_.clear();
  for (const int32_t r : adm.new_rows) dsts_.push_back(cache.row_data(r));
  memory_ms_ += ms_since(t_mem);

  // The misses are read into their rows while the cached rows are multiplied (with overlap on);
  // either way the cached rows are summed first, then the new ones, so results are equal.
  build_runs(layer, adm.add.data(), static_cast<int32_t>(adm.add.size()), dsts_);
  const bool async = options_.overlap_io && !runs_.empty();
  const FlashStore::Counters before = store_.counters();
  double wait_ms = 0;
  try {
    if (!runs_.empty()) {
      if (async) {
        store_.read_runs_async(runs_);
      } else {
        store_.read_runs(runs_);
      }
    }
    flash_compute_selected(layer, adm.hit_rows, x, out);
    if (async) {
      const auto t_wait = Clock::now();
      store_.read_runs_wait();
      wait_ms = ms_since(t_wait);
    }
  } catch (...) {
    // Nothing may still write into the rows; then drop the rows that were never filled so the
    // cache holds no stale bundles (they reload when needed again).
    if (async) {
      try {
        store_.read_runs_wait();
      } catch (...) {
      }
    }
    planner_->admission_drop(layer);
    throw;
  }
  const FlashStore::Counters& after = store_.counters();
  const double read_ms = after.io_ms - before.io_ms;
  io_ms_ += async ? wait_ms : read_ms;
  io_hidden_ms_ += async ? std::max(0.0, read_ms - wait_ms) : 0.0;
  bytes_read_ += after.bytes_read - before.bytes_read;
  requests_ += after.requests - before.requests;

  flash_compute_selected(layer, adm.new_rows, x, out);
  if (!adm.overflow.empty()) {
    stream_and_compute(layer, adm.overflow.data(), static_cast<int32_t>(adm.overflow.size()), x,
                       out);
  }
}

}  // namespace flashchat
