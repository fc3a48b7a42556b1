// flash_ffn.h - the FFN of a flash model, in one of four modes, within a DRAM budget.
//
//   dram   every bundle loaded into DRAM once; every token multiplies all of them
//   naive  every token reads each layer's whole FFN from flash (chunked through one I/O buffer)
//   mmap   ffn.bin memory-mapped; the page cache decides what stays (llama.cpp's behaviour)
//   flash  the paper: predictor -> window of the last k tokens' active sets -> neuron cache that
//          loads only the increment (appends) and drops what left the window (swap with last)
//
// In flash mode the budget buys a number of cache rows (runtime/budget.h: what is left after the
// fixed DRAM, the I/O buffers and the FFN's state); the layers share them in proportion to their
// measured demand (the distinct neurons each layer's window of k tokens holds, averaged over
// recent tokens), re-split every kRebalanceTokens tokens. Rows are reserved for twice the even
// share (capped by the layer), so address space and commit charge follow the budget too.
// With a budget the cache evicts only when it needs room: least recently used first
// (runtime/cache_policy.h), so the window of the last k tokens is the last to go, and an evicted
// neuron's row is handed to the incoming one (no row copy). The window in force is the number of
// most recent tokens whose sets are all still cached. Without a budget the window itself bounds
// the cache: neurons that leave it are deleted (swap with last), as in the paper.
// Each token multiplies only its own predicted rows. Reads of the missing bundles are in flight
// (FlashStore::read_runs_async) while the rows already cached are multiplied; the new rows are
// multiplied when they arrive, in the same order as without overlap, so both give equal results.
// Neurons of the current token that do not fit even after evicting every older neuron are
// streamed through the I/O buffer, used and dropped, so the result stays exact with respect to
// the active set.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <span>
#include <vector>

#include "core/mapped_file.h"
#include "flash/flash_model.h"
#include "model/transformer.h"
#include "runtime/active_trace.h"
#include "runtime/budget.h"
#include "runtime/bundle_ffn.h"
#include "runtime/cache_planner.h"
#include "runtime/flash_store.h"
#include "runtime/telemetry.h"

namespace flashchat {

std::optional<FfnMode> ffn_mode_from_name(const std::string& name);

struct FlashFfnOptions {
  FfnMode mode = FfnMode::Flash;
  int window = 4;                   // k, tokens whose active sets stay cached
  bool bundling = true;             // false: gate/up and down read as separate requests
  bool oracle = false;              // flash: use the true active sets (test mode) instead of
                                    // the predictor
  bool evaluate_predictor = false;  // also compute the true activations and count recall
  bool direct_io = true;
  bool overlap_io = true;           // flash: multiply cached rows while the misses are read
  bool prefetch = false;            // flash with predictors: predict each layer's set before its
                                    // attention and read those bundles while attention runs (off
                                    // by default: on the default model the look-ahead guesses
                                    // only 11-44% right and triples the bytes read)
  // Ids per neuron in a prompt block's set pool, 1..kBatchIdsPerNeuron (budget.h; the budget
  // counts the largest). Smaller only to test the sub-blocks.
  int batch_ids_per_neuron = kBatchIdsPerNeuron;
  FlashStoreOptions store;
};

class FlashFfn : public FfnBackend {
 public:
  // Tokens between re-splits of the cache rows over layers (flash mode with a budget).
  static constexpr int kRebalanceTokens = CachePlanner::kRebalanceTokens;

  // fixed_bytes: DRAM held outside this object (FixedDram::total(): resident weights,
  // predictors, KV cache, runtime state).
  // budget_bytes: 0 = unlimited. Throws Error when the budget is below the mode's minimum
  // (message states the minimum) or when the model has no predictors and flash mode without
  // oracle is asked for.
  FlashFfn(const FlashModel& fm, const FlashFfnOptions& options, int64_t fixed_bytes,
           int64_t budget_bytes);
  ~FlashFfn() override;

  void ffn_forward(int layer, const float* x, float* out) override;
  bool prefetch_wanted() const override;
  void ffn_prefetch(int layer, const float* x) override;
  // A block of prompt tokens (flash_ffn_batch.cc): flash and naive read what the block needs
  // from this layer once and each token multiplies its own set (flash) or all rows; every mode
  // reads each bundle from memory once per group of tokens (bundle_ffn_compute_tokens).
  void ffn_forward_batch(int layer, const float* x, int n, float* out) override;
  // Bytes of the block's id lists (sets per token, union, rows); grown to the largest block.
  int64_t batch_state_bytes() const;

  // Between tokens. set_budget and set_window throw Error (and keep the old value) below the
  // minimum (the window's sets are part of it).
  // set_fixed_bytes: the DRAM outside the FFN changed (the KV cache grew); the neuron cache
  // yields rows to it, down to none (then every active neuron is streamed); throws Error (and
  // keeps the old value) when even that does not fit.
  void set_window(int k);
  void set_budget(int64_t budget_bytes);
  // Both at once, checked together (a larger window with a larger budget).
  void set_window_and_budget(int k, int64_t budget_bytes);
  void set_fixed_bytes(int64_t fixed_bytes);
  // Smallest budget the current mode accepts with the fixed DRAM now.
  int64_t minimum_budget_bytes() const;
  // Bytes of the cache/window maps, window sets and scratch vectors this object holds (runtime
  // state; measured, part of the telemetry's "other").
  int64_t state_bytes() const;

  // Starts a token's accounting; fill_telemetry then adds this token's FFN side.
  void begin_token();
  void fill_telemetry(TokenTelemetry& t) const;

  const FlashFfnOptions& options() const { return options_; }
  int64_t budget_bytes() const { return budget_bytes_; }
  int64_t io_buffer_bytes() const;
  int64_t cache_bytes() const;  // rows usable (capacity) x bundle bytes, all layers
  // The I/O the cache plan assumes and the store's direct I/O in force (for a trace).
  const IoBufferPlan& io_plan() const { return io_plan_; }
  bool direct_io_in_force() const { return store_.direct_io(); }
  int64_t open_fixed_bytes() const { return open_fixed_bytes_; }  // fixed_bytes when built
  // The cache bookkeeping (flash and dram modes; nullptr otherwise).
  const CachePlanner* planner() const { return planner_.get(); }

  // Flash mode: when on, every layer's predicted set of the current token is kept
  // (recorded_active(); ascending ids) for a trace or a view. Off by default: nothing is copied.
  void set_record_active(bool on);
  const std::vector<std::vector<int32_t>>& recorded_active() const { return recorded_; }
  // Predictor evaluation from the next token on (flash mode with a predictor): the true
  // activations are computed through a mapping of ffn.bin (dense up-projection per layer, page
  // cache outside the budget). Off by default: costs nothing. Between tokens only.
  void set_evaluate_predictor(bool on);
  // With both recording and evaluation on: the last generated token's evaluation (null for a
  // prompt block or when off). A fresh object per token, so a view may keep it.
  std::shared_ptr<const ActiveEvaluation> recorded_evaluation() const {
    return recorded_block_ ? nullptr : eval_;
  }
  // The last forward pass was a block of prompt tokens: recorded_active() holds the union of
  // its tokens' sets (the cache was left as it was).
  bool recorded_block() const { return recorded_block_; }

 private:
  LayerTelemetry& tel(int layer) {
    return planner_ ? planner_->layer_telemetry(layer) : tel_[static_cast<size_t>(layer)];
  }
  // Gives the pages of rows beyond each layer's capacity back to the OS (after it shrank).
  void release_rows();
  // For flash_ffn_batch.cc.
  LayerTelemetry& layer_tel(int layer) { return tel(layer); }
  const NeuronCache* layer_cache(int layer) const {  // nullptr in naive and mmap modes
    return planner_ ? &planner_->cache(layer) : nullptr;
  }
  void load_all_layers();
  void select_active(int layer, const float* x);
  void true_hidden(int layer, const float* x, std::vector<float>& hidden);
  const float* up_bias(int layer) const;  // OPT's fc1 bias, or nullptr
  // What bundle_ffn needs besides the rows (split scales, gate activations).
  BundleAux aux(int layer) const {
    return {fm_.layer_scales(layer), layout_.gate_resident ? gate_act_.data() : nullptr};
  }
  // Gate-resident layout: gate_act_ = act(W_gate x) for every neuron of the layer.
  void gate_compute(int layer, const float* x);
  // Fills runs_ with the reads of `count` bundles (ascending ids) into dsts.
  void build_runs(int layer, const int32_t* neurons, int32_t count,
                  const std::vector<uint8_t*>& dsts);
  void read_bundles(int layer, const int32_t* neurons, int32_t count,
                    const std::vector<uint8_t*>& dsts);
  void flash_forward(int layer, const float* x, float* out);
  // Waits for the look-ahead reads (if any) and accounts them; on a read error drops the rows
  // they were filling and rethrows.
  void prefetch_collect();
  void flash_compute_selected(int layer, const std::vector<int32_t>& rows, const float* x,
                              float* out);
  void stream_and_compute(int layer, const int32_t* neurons, int32_t count, const float* x,
                          float* out);

  const FlashModel& fm_;
  const FlashLayout& layout_;
  const ModelConfig& cfg_;
  FlashFfnOptions options_;
  int64_t fixed_bytes_ = 0;
  int64_t open_fixed_bytes_ = 0;
  int64_t budget_bytes_ = 0;

  FlashStore store_;
  std::shared_ptr<MappedFile> map_;       // mmap mode, and true activations for oracle/eval
  std::unique_ptr<CachePlanner> planner_;  // flash and dram modes
  std::vector<LayerTelemetry> tel_;        // naive and mmap modes
  std::vector<int32_t> released_rows_;     // per layer, the capacity last released above
  bool record_active_ = false;
  bool recorded_block_ = false;
  std::vector<std::vector<int32_t>> recorded_;
  std::shared_ptr<ActiveEvaluation> eval_;  // this token's, while recording and evaluating
  IoBufferPlan io_plan_;
  struct FreeDeleter {
    void operator()(uint8_t* p) const;
  };
  std::unique_ptr<uint8_t, FreeDeleter> io_buffer_;  // naive reads and streamed neurons
  std::vector<float> gate_act_;  // gate-resident layout: act(gate . x) of the current token
  std::vector<float> gate_one_;  // ones (the "up" that turns ffn_activate into act alone)
  int32_t io_buffer_rows_ = 0;
  std::vector<int32_t> identity_ids_;     // 0..neurons-1
  // One layer's predicted set while its FFN runs (layers run one at a time; reserved whole).
  std::vector<int32_t> active_;
  // Look-ahead of one layer: its predicted ids, those loaded and their stamps before, pending;
  // the look-ahead's unused neurons to drop.
  std::vector<int32_t> prefetch_ids_, prefetch_loaded_, prefetch_old_stamp_, prefetch_drop_;
  int prefetch_layer_ = -1;  // layer whose look-ahead reads are in flight, or -1
  FlashStore::Counters prefetch_before_;
  std::vector<float> scratch_out_, hidden_, pred_scratch_;
  std::vector<ReadRun> runs_;
  std::vector<uint8_t*> dsts_;
  // ffn_forward_batch's state (flash mode; bounded by budget_map_bytes): two pools of
  // kBatchIdsPerNeuron x neurons ids holding each token's set and its row list (spans into
  // them, one per token of a sub-block), a mark per neuron, the union and its bundles not cached.
  std::vector<int32_t> batch_ids_, batch_rows_;
  std::vector<std::span<const int32_t>> batch_sets_, batch_lists_;
  std::vector<uint8_t> batch_mark_;
  std::vector<int32_t> batch_union_, batch_missing_;
  void flash_block(int layer, int t0, int t1, const float* x, float* out, int32_t& predicted,
                   int32_t& streamed);
  void stream_block(int layer, int n, const float* x, float* out, bool all_rows);

  // Per-token accounting.
  double predictor_ms_ = 0, io_ms_ = 0, io_hidden_ms_ = 0, memory_ms_ = 0;
  int64_t bytes_read_ = 0, requests_ = 0;
};

}  // namespace flashchat
