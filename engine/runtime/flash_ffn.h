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
#include <vector>

#include "core/mapped_file.h"
#include "flash/flash_model.h"
#include "model/transformer.h"
#include "runtime/budget.h"
#include "runtime/flash_store.h"
#include "runtime/neuron_cache.h"
#include "runtime/neuron_window.h"
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
  FlashStoreOptions store;
};

class FlashFfn : public FfnBackend {
 public:
  // Tokens between re-splits of the cache rows over layers (flash mode with a budget).
  static constexpr int kRebalanceTokens = 16;

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

 private:
  struct Layer {
    std::unique_ptr<NeuronCache> cache;
    std::unique_ptr<NeuronWindow> window;
    std::vector<int32_t> last_used;  // flash: per neuron, the last token that predicted it (-1)
    double demand = 0;               // flash: recent mean of the window's distinct neurons
    LayerTelemetry tel;
  };
  LayerTelemetry& layer_tel(int layer);
  const NeuronCache* layer_cache(int layer) const;  // nullptr in naive and mmap modes
  void apply_capacity();
  void load_all_layers();
  void select_active(int layer, const float* x, Layer& L);
  void true_hidden(int layer, const float* x, std::vector<float>& hidden);
  const float* up_bias(int layer) const;  // OPT's fc1 bias, or nullptr
  // Fills runs_ with the reads of `count` bundles (ascending ids) into dsts.
  void build_runs(int layer, const int32_t* neurons, int32_t count,
                  const std::vector<uint8_t*>& dsts);
  void read_bundles(int layer, const int32_t* neurons, int32_t count,
                    const std::vector<uint8_t*>& dsts);
  void flash_forward(int layer, const float* x, float* out, Layer& L);
  // Waits for the look-ahead reads (if any) and accounts them; on a read error drops the rows
  // they were filling and rethrows.
  void prefetch_collect();
  // Flash mode, memory management: makes room (evicting least recently used neurons, or the
  // window's leavers without a budget) and reserves rows for this token's misses (add_,
  // ascending); fills dsts_ / new_rows_ and overflow_ (what must be streamed).
  void flash_admit(Layer& L);
  // Makes room for `add` (ascending ids, none cached): free rows, then (with a budget) the least
  // recently used neurons of earlier tokens, whose rows go to the newcomers in id order. Fills
  // dsts_ and new_rows_ for the first `returned` ids of add (the rest did not fit), counts the
  // evictions, lowers in_force when a neuron of the window was evicted.
  int32_t cache_admit(Layer& L, const std::vector<int32_t>& add, int32_t& in_force);
  void flash_compute_selected(int layer, Layer& L, const std::vector<int32_t>& rows,
                              const float* x, float* out);
  // Sets every layer's capacity: the rows the budget buys, split by the layers' demand.
  void rebalance_capacity(int32_t even_rows);
  // Evicts least recently used neurons of L until at most `rows` are used, then caps it there.
  void layer_set_capacity(Layer& L, int32_t rows);
  bool lazy_eviction() const { return budget_bytes_ > 0; }
  void stream_and_compute(int layer, const int32_t* neurons, int32_t count, const float* x,
                          float* out);
  int32_t capacity_rows_for(int64_t budget_bytes, int64_t fixed_bytes) const;
  // Rows a layer's matrix reserves when the even share is `even_rows`.
  int32_t reserve_rows_for(int32_t even_rows) const;

  const FlashModel& fm_;
  const FlashLayout& layout_;
  const ModelConfig& cfg_;
  FlashFfnOptions options_;
  int64_t fixed_bytes_ = 0;
  int64_t budget_bytes_ = 0;

  FlashStore store_;
  std::shared_ptr<MappedFile> map_;       // mmap mode, and true activations for oracle/eval
  std::vector<std::unique_ptr<Layer>> layers_;
  IoBufferPlan io_plan_;
  struct FreeDeleter {
    void operator()(uint8_t* p) const;
  };
  std::unique_ptr<uint8_t, FreeDeleter> io_buffer_;  // naive reads and streamed neurons
  int32_t io_buffer_rows_ = 0;
  std::vector<int32_t> identity_ids_;     // 0..neurons-1
  // One layer's id lists while its FFN runs (layers run one at a time; reserved whole):
  // predicted set, neurons to load and to drop, and those beyond the cache capacity.
  std::vector<int32_t> active_, add_, remove_, extra_remove_, overflow_;
  // Eviction victims, the rows multiplied (cached before this token / just read), and the
  // victim picker's scratch.
  std::vector<int32_t> victims_, hit_rows_, new_rows_;
  std::vector<std::pair<int32_t, int32_t>> pick_scratch_;
  std::vector<int32_t> split_rows_;
  std::vector<double> split_demand_;
  std::vector<int32_t> split_cap_;
  int32_t token_now_ = -1;  // tokens begun (begin_token), the stamp of last use
  // Look-ahead of one layer: its predicted ids, those loaded and their stamps before, pending.
  std::vector<int32_t> prefetch_ids_, prefetch_loaded_, prefetch_old_stamp_;
  int prefetch_layer_ = -1;  // layer whose look-ahead reads are in flight, or -1
  FlashStore::Counters prefetch_before_;
  std::vector<float> scratch_out_, hidden_, pred_scratch_;
  std::vector<ReadRun> runs_;
  std::vector<uint8_t*> dsts_;
  // ffn_forward_batch's lists: each token's set, their union, its bundles not cached, row lists.
  std::vector<std::vector<int32_t>> batch_sets_, batch_lists_;
  std::vector<int32_t> batch_union_, batch_missing_;
  void stream_block(int layer, int n, const float* x, float* out, bool all_rows);

  // Per-token accounting.
  double predictor_ms_ = 0, io_ms_ = 0, io_hidden_ms_ = 0, memory_ms_ = 0;
  int64_t bytes_read_ = 0, requests_ = 0;
  int32_t window_in_force_ = 0;
};

}  // namespace flashchat
