// flash_ffn_sparse.cc - FlashFfn's flash mode, one layer of one token: predict, admit the misses
// into the neuron cache, read them while the cached rows are multiplied, multiply the new rows.
#include <algorithm>
#include <chrono>
#include <span>

#include "runtime/bundle_ffn.h"
#include "runtime/flash_ffn.h"

namespace flashchat {

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

}  // namespace


// rows[] of the layer's cache (rows x [gate|up|down]), x (dim,) -> out (dim,) +=
void FlashFfn::flash_compute_selected(int layer, const std::vector<int32_t>& rows, const float* x,
                                      float* out) {
  if (rows.empty()) return;
  const NeuronCache& cache = planner_->cache(layer);
  bundle_ffn_compute_selected(layout_, cfg_, cache.data(), cache.used_rows(),
                              cache.row_to_neuron().data(), rows.data(),
                              static_cast<int32_t>(rows.size()), up_bias(layer), x, out);
}

void FlashFfn::flash_forward(int layer, const float* x, float* out) {
  select_active(layer, x);
  if (record_active_) recorded_[static_cast<size_t>(layer)].assign(active_.begin(), active_.end());
  // Memory management: room is made (least recently used evicted, or the window's leavers
  // without a budget) and rows reserved for this token's misses (cache_planner.h).
  const auto t_mem = Clock::now();
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
