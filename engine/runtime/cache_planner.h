// cache_planner.h - the flash cache's bookkeeping: which neurons each layer's cache holds, which
// a token loads, evicts or streams, and how the budget's rows are shared by the layers.
//
// One policy, two users: FlashFfn (which adds the reads and the arithmetic) and CacheSimulator
// (which replays a trace of active sets under another window or budget). The policy:
//   - a budget buys rows (budget_cache_rows, less what the reserved row maps already hold);
//     the layers share them by demand, a moving average of their window's distinct neurons,
//     re-split every kRebalanceTokens tokens (shrinking layers evict least recently used);
//   - with a budget the cache evicts only when a token's misses need rows: least recently used
//     first (last_used stamps), the victims' rows handed to the incoming neurons;
//   - without a budget the window's leavers are deleted at once (swap with last), as in the paper;
//   - misses that do not fit even then are streamed (read, used, dropped).
// Window in force = min(k, sets held, token_now - last_used of any evicted neuron), 1 when
// streaming. hold_rows = false keeps only the maps (no row memory: the simulator).
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "flash/flash_model.h"
#include "runtime/budget.h"
#include "runtime/flash_store.h"
#include "runtime/neuron_cache.h"
#include "runtime/neuron_window.h"
#include "runtime/telemetry.h"

namespace flashchat {

// What admit() decided for one layer of one token.
struct CacheAdmission {
  std::vector<int32_t> hit_rows;  // rows already holding active neurons, ascending
  std::vector<int32_t> add;       // misses given a row, ascending ids (read them)
  std::vector<int32_t> new_rows;  // add[i]'s row
  std::vector<int32_t> overflow;  // misses without a row (stream them), ascending ids
};

// Appends the reads of `neurons` (ascending ids) of `layer` into dsts[i]. With bundling,
// neurons adjacent on disk and in memory become one run; without, the gate/up rows and the down
// column of every neuron are separate runs (the layout the paper's bundling replaces).
// Throws Error when the spans differ in size.
void ffn_runs_append(const FlashLayout& layout, int layer, bool bundling,
                     std::span<const int32_t> neurons, std::span<uint8_t* const> dsts,
                     std::vector<ReadRun>& runs);

class CachePlanner {
 public:
  // Tokens between re-splits of the cache rows over layers (flash mode with a budget).
  static constexpr int kRebalanceTokens = 16;

  // mode: Flash or Dram (dram: every row, no window policy). io_plan_bytes: the I/O buffers'
  // planned total (IoBufferPlan::total()). budget_bytes 0 = unlimited. Throws Error on invalid
  // sizes (the caller checks the budget's minimum first).
  CachePlanner(const FlashLayout& layout, FfnMode mode, int window, int64_t io_plan_bytes,
               int64_t budget_bytes, int64_t fixed_bytes, bool hold_rows = true);
  ~CachePlanner();
  CachePlanner(const CachePlanner&) = delete;
  CachePlanner& operator=(const CachePlanner&) = delete;

  int window() const { return window_; }
  int64_t budget_bytes() const { return budget_bytes_; }
  int64_t fixed_bytes() const { return fixed_bytes_; }
  bool lazy_eviction() const { return budget_bytes_ > 0; }
  int32_t token_now() const { return token_now_; }
  int32_t window_in_force() const { return window_in_force_; }
  int n_layers() const { return static_cast<int>(layers_.size()); }
  NeuronCache& cache(int layer) { return *layers_[static_cast<size_t>(layer)]->cache; }
  const NeuronCache& cache(int layer) const { return *layers_[static_cast<size_t>(layer)]->cache; }
  // Per neuron, the last token that predicted it (-1 = never); flash mode.
  const std::vector<int32_t>& last_used(int layer) const {
    return layers_[static_cast<size_t>(layer)]->last_used;
  }
  // This token's counts: neurons_added / removed / streamed, cache_rows_used / capacity are
  // the planner's; the caller may fill the rest (predicted, evaluation).
  LayerTelemetry& layer_telemetry(int layer) { return layers_[static_cast<size_t>(layer)]->tel; }
  const LayerTelemetry& layer_telemetry(int layer) const {
    return layers_[static_cast<size_t>(layer)]->tel;
  }

  // Rows per layer the budget buys with `fixed_bytes` outside the FFN.
  int32_t capacity_rows_for(int64_t budget_bytes, int64_t fixed_bytes) const;

  // Settings (checked by the caller); the new rows apply now, the window at the next admit.
  void set_window_and_budget(int k, int64_t budget_bytes);
  void set_fixed_bytes(int64_t fixed_bytes);

  // Starts a token: clears its counts, advances the last-use stamp, re-splits the rows every
  // kRebalanceTokens tokens (with a budget).
  void begin_token();

  // Flash mode, one layer of the current token: `active` (ascending, distinct ids) enters the
  // window; room is made and rows are reserved for the misses (admission()). With rows held,
  // the caller fills cache(layer).row_data(new_rows[i]) with add[i]'s bundle.
  const CacheAdmission& admit(int layer, std::span<const int32_t> active);
  const CacheAdmission& admission() const { return adm_; }
  // Makes room for `add` (ascending ids, none cached): free rows, then (with a budget) the least
  // recently used neurons of earlier tokens, whose rows go to the newcomers in id order. Fills
  // admission().new_rows for the first `returned` ids of add (the rest did not fit), counts the
  // evictions, lowers in_force when a neuron of the window was evicted. (The look-ahead's use.)
  int32_t admit_rows(int layer, std::span<const int32_t> add, int32_t& in_force);
  // Stamps `neuron` of `layer` as last used by `token` (the look-ahead's bookkeeping).
  void stamp_set(int layer, int32_t neuron, int32_t token) {
    layers_[static_cast<size_t>(layer)]->last_used[static_cast<size_t>(neuron)] = token;
  }
  void window_in_force_lower(int32_t in_force) {
    window_in_force_ = std::min(window_in_force_, in_force);
  }
  // After a failed read: drops the rows admit() handed out (never filled).
  void admission_drop(int layer);

  // Bytes of the maps, windows, stamps and scratch held (runtime state).
  int64_t state_bytes() const;

 private:
  struct Layer {
    std::unique_ptr<NeuronCache> cache;
    std::unique_ptr<NeuronWindow> window;
    std::vector<int32_t> last_used;
    double demand = 0;
    LayerTelemetry tel;
  };
  void apply_capacity();
  void rebalance_capacity(int32_t even_rows);
  void layer_set_capacity(Layer& L, int32_t rows);
  int32_t reserve_rows_for(int32_t even_rows) const;
  void layer_make(Layer& L, int32_t reserve_rows);

  const FlashLayout& layout_;
  FfnMode mode_;
  int window_ = 1;
  int64_t io_plan_bytes_ = 0;
  int64_t budget_bytes_ = 0;
  int64_t fixed_bytes_ = 0;
  bool hold_rows_ = true;
  std::vector<std::unique_ptr<Layer>> layers_;
  CacheAdmission adm_;
  std::vector<int32_t> remove_, extra_remove_, victims_;
  std::vector<std::pair<int32_t, int32_t>> pick_scratch_;
  std::vector<int32_t> split_rows_, split_cap_;
  std::vector<double> split_demand_;
  int32_t token_now_ = -1;
  int32_t window_in_force_ = 0;
};

}  // namespace flashchat
