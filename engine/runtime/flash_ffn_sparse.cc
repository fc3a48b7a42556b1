// flash_ffn_sparse.cc - FlashFfn's flash mode, one layer of one token: predict, admit the misses
// into the neuron cache, read them while the cached rows are multiplied, multiply the new rows.
#include <algorithm>
#include <chrono>
#include <span>

#include "flash/predictor.h"
#include "runtime/bundle_ffn.h"
#include "runtime/cache_policy.h"
#include "runtime/flash_ffn.h"

namespace flashchat {

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

}  // namespace


void FlashFfn::flash_admit(Layer& L) {
  NeuronCache& cache = *L.cache;
  const bool lazy = lazy_eviction();
  // The window: with a budget its leavers stay cached until their rows are needed; without
  // one they are deleted now (swap with last), as in the paper.
  if (L.window->k() != options_.window) {
    L.window->set_k(options_.window, &cache, extra_remove_);
    if (!lazy) {
      cache.remove_many(extra_remove_);
      L.tel.neurons_removed += static_cast<int32_t>(extra_remove_.size());
    }
  }
  L.window->push(active_, &cache, add_, remove_);
  if (!lazy) {
    cache.remove_many(remove_);
    L.tel.neurons_removed += static_cast<int32_t>(remove_.size());
  }
  for (const int32_t n : active_) L.last_used[static_cast<size_t>(n)] = token_now_;
  const double distinct = L.window->union_size();
  L.demand = L.demand <= 0 ? distinct : 0.75 * L.demand + 0.25 * distinct;
  int32_t in_force = std::min(options_.window, L.window->sets_held());

  // Rows already holding this token's neurons (no row moves below: replace and append leave
  // the other rows where they are).
  const std::vector<int32_t>& row_of = cache.neuron_to_row();
  hit_rows_.clear();
  for (const int32_t n : active_) {
    const int32_t r = row_of[static_cast<size_t>(n)];
    if (r >= 0) hit_rows_.push_back(r);
  }
  std::sort(hit_rows_.begin(), hit_rows_.end());

  std::sort(add_.begin(), add_.end());
  const int32_t fit = cache_admit(L, add_, in_force);
  overflow_.assign(add_.begin() + fit, add_.end());
  add_.resize(static_cast<size_t>(fit));
  if (!overflow_.empty()) in_force = std::min(in_force, 1);
  L.tel.neurons_added += fit;
  window_in_force_ = std::min(window_in_force_, in_force);
}

int32_t FlashFfn::cache_admit(Layer& L, const std::vector<int32_t>& add, int32_t& in_force) {
  NeuronCache& cache = *L.cache;
  const std::vector<int32_t>& row_of = cache.neuron_to_row();
  // Room: free rows, then the least recently used neurons of earlier tokens.
  const int32_t need = static_cast<int32_t>(add.size()) - cache.free_rows();
  victims_.clear();
  if (need > 0 && lazy_eviction()) {
    cache_pick_victims(std::span<const int32_t>(cache.row_to_neuron().data(),
                                                static_cast<size_t>(cache.used_rows())),
                       L.last_used, token_now_, need, victims_, pick_scratch_);
  }
  for (const int32_t v : victims_) {
    // An evicted neuron of the last `in_force` tokens cuts the window to the tokens after it.
    in_force = std::min(in_force, token_now_ - L.last_used[static_cast<size_t>(v)]);
  }
  const int32_t n_victims = static_cast<int32_t>(victims_.size());
  const int32_t fit =
      std::min<int32_t>(static_cast<int32_t>(add.size()), cache.free_rows() + n_victims);
  // Neurons in id order get the victims' rows in row order, then appended rows: neurons
  // adjacent on disk land in adjacent rows whenever the rows allow it (one read for the run).
  std::sort(victims_.begin(), victims_.end(), [&](int32_t a, int32_t b) {
    return row_of[static_cast<size_t>(a)] < row_of[static_cast<size_t>(b)];
  });
  dsts_.clear();
  new_rows_.clear();
  for (int32_t i = 0; i < fit; ++i) {
    const int32_t n = add[static_cast<size_t>(i)];
    dsts_.push_back(i < n_victims ? cache.replace(victims_[static_cast<size_t>(i)], n)
                                  : cache.append(n));
    new_rows_.push_back(row_of[static_cast<size_t>(n)]);
  }
  L.tel.neurons_removed += n_victims;
  return fit;
}

bool FlashFfn::prefetch_wanted() const {
  return options_.mode == FfnMode::Flash && options_.prefetch && !options_.oracle;
}

void FlashFfn::ffn_prefetch(int layer, const float* x) {
  if (!prefetch_wanted()) return;
  prefetch_collect();  // an earlier look-ahead nobody collected (an interrupted token)
  Layer& L = *layers_[static_cast<size_t>(layer)];
  const auto t0 = Clock::now();
  predictor_predict(fm_.predictors[static_cast<size_t>(layer)], x, prefetch_ids_, pred_scratch_);
  predictor_ms_ += ms_since(t0);
  const auto t_mem = Clock::now();
  prefetch_loaded_.clear();
  for (const int32_t n : prefetch_ids_) {
    if (!L.cache->contains(n)) prefetch_loaded_.push_back(n);
  }
  int32_t in_force = options_.window;
  const int32_t fit = cache_admit(L, prefetch_loaded_, in_force);
  prefetch_loaded_.resize(static_cast<size_t>(fit));  // the rest: read when the layer asks
  window_in_force_ = std::min(window_in_force_, in_force);
  // Stamped as this token's until the layer's own prediction: the rows being filled are not
  // handed out again meanwhile; those the layer then does not predict get their stamps back.
  prefetch_old_stamp_.clear();
  for (const int32_t n : prefetch_loaded_) {
    prefetch_old_stamp_.push_back(L.last_used[static_cast<size_t>(n)]);
    L.last_used[static_cast<size_t>(n)] = token_now_;
  }
  L.tel.neurons_added += fit;
  L.tel.neurons_prefetched = fit;
  memory_ms_ += ms_since(t_mem);
  build_runs(layer, prefetch_loaded_.data(), fit, dsts_);
  if (runs_.empty()) return;
  prefetch_before_ = store_.counters();
  try {
    store_.read_runs_async(runs_);
  } catch (...) {
    L.cache->remove_many(prefetch_loaded_);
    throw;
  }
  prefetch_layer_ = layer;
}

void FlashFfn::prefetch_collect() {
  if (prefetch_layer_ < 0) return;
  Layer& L = *layers_[static_cast<size_t>(prefetch_layer_)];
  prefetch_layer_ = -1;
  const auto t_wait = Clock::now();
  try {
    store_.read_runs_wait();
  } catch (...) {
    L.cache->remove_many(prefetch_loaded_);
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

// rows[] of L's cache (rows x [gate|up|down]), x (dim,) -> out (dim,) +=
void FlashFfn::flash_compute_selected(int layer, Layer& L, const std::vector<int32_t>& rows,
                                      const float* x, float* out) {
  if (rows.empty()) return;
  bundle_ffn_compute_selected(layout_, cfg_, L.cache->data(), L.cache->used_rows(),
                              L.cache->row_to_neuron().data(), rows.data(),
                              static_cast<int32_t>(rows.size()), up_bias(layer), x, out);
}

void FlashFfn::flash_forward(int layer, const float* x, float* out, Layer& L) {
  prefetch_collect();
  select_active(layer, x, L);
  const auto t_mem = Clock::now();
  if (!prefetch_loaded_.empty()) {
    // The look-ahead's neurons this layer did not predict get their stamps back (the oldest go
    // first when rows are needed); those it did predict are hits now.
    // Without a budget only the window stays cached: the unused ones go at once.
    extra_remove_.clear();
    for (size_t i = 0; i < prefetch_loaded_.size(); ++i) {
      const int32_t n = prefetch_loaded_[i];
      if (std::binary_search(active_.begin(), active_.end(), n)) {
        ++L.tel.prefetch_used;
      } else {
        L.last_used[static_cast<size_t>(n)] = prefetch_old_stamp_[i];
        if (!lazy_eviction()) extra_remove_.push_back(n);
      }
    }
    L.cache->remove_many(extra_remove_);
    L.tel.neurons_removed += static_cast<int32_t>(extra_remove_.size());
    prefetch_loaded_.clear();
  }
  flash_admit(L);
  memory_ms_ += ms_since(t_mem);

  // The misses are read into their rows while the cached rows are multiplied (with overlap on);
  // either way the cached rows are summed first, then the new ones, so results are equal.
  build_runs(layer, add_.data(), static_cast<int32_t>(add_.size()), dsts_);
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
    flash_compute_selected(layer, L, hit_rows_, x, out);
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
    L.cache->remove_many(add_);
    throw;
  }
  const FlashStore::Counters& after = store_.counters();
  const double read_ms = after.io_ms - before.io_ms;
  io_ms_ += async ? wait_ms : read_ms;
  io_hidden_ms_ += async ? std::max(0.0, read_ms - wait_ms) : 0.0;
  bytes_read_ += after.bytes_read - before.bytes_read;
  requests_ += after.requests - before.requests;

  flash_compute_selected(layer, L, new_rows_, x, out);
  if (!overflow_.empty()) {
    const int32_t n_overflow = static_cast<int32_t>(overflow_.size());
    stream_and_compute(layer, overflow_.data(), n_overflow, x, out);
    L.tel.neurons_streamed = n_overflow;
  }
}

}  // namespace flashchat
