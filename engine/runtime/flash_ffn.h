// flash_ffn.h - the FFN of a flash model, in one of four modes, within a DRAM budget.
//
//   dram   every bundle loaded into DRAM once; every token multiplies all of them
//   naive  every token reads each layer's whole FFN from flash (chunked through one I/O buffer)
//   mmap   ffn.bin memory-mapped; the page cache decides what stays (llama.cpp's behaviour)
//   flash  the paper: predictor -> window of the last k tokens' active sets -> neuron cache that
//          loads only the increment (appends) and drops what left the window (swap with last)
//
// In flash mode the cache capacity per layer follows from the budget (runtime/budget.h): what is
// left after the fixed DRAM (resident weights, predictors, KV cache, runtime state, I/O buffers)
// divided evenly over layers. Cache rows are reserved for that capacity only (not for the whole
// layer), so address space and commit charge follow the budget too.
// When the window's union does not fit, the window shrinks for that token (telemetry reports
// the k in force); neurons of the current token that still do not fit are streamed through the
// I/O buffer, used and dropped, so the result stays exact with respect to the active set.
#pragma once

#include <memory>
#include <optional>
#include <string>
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
  FlashStoreOptions store;
};

class FlashFfn : public FfnBackend {
 public:
  // fixed_bytes: DRAM held outside this object (FixedDram::total(): resident weights,
  // predictors, KV cache, runtime state).
  // budget_bytes: 0 = unlimited. Throws Error when the budget is below the mode's minimum
  // (message states the minimum) or when the model has no predictors and flash mode without
  // oracle is asked for.
  FlashFfn(const FlashModel& fm, const FlashFfnOptions& options, int64_t fixed_bytes,
           int64_t budget_bytes);
  ~FlashFfn() override;

  void ffn_forward(int layer, const float* x, float* out) override;
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
  struct Layer;
  LayerTelemetry& layer_tel(int layer);
  const NeuronCache* layer_cache(int layer) const;  // nullptr in naive and mmap modes
  void apply_capacity();
  void load_all_layers();
  void select_active(int layer, const float* x, Layer& L);
  void true_hidden(int layer, const float* x, std::vector<float>& hidden);
  const float* up_bias(int layer) const;  // OPT's fc1 bias, or nullptr
  void read_bundles(int layer, const int32_t* neurons, int32_t count,
                    const std::vector<uint8_t*>& dsts);
  void load_into_cache(int layer, Layer& L, const std::vector<int32_t>& neurons);
  void stream_and_compute(int layer, const int32_t* neurons, int32_t count, const float* x,
                          float* out);
  int32_t capacity_rows_for(int64_t budget_bytes, int64_t fixed_bytes) const;

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
  std::vector<float> scratch_out_, hidden_, pred_scratch_;
  std::vector<ReadRun> runs_;
  std::vector<uint8_t*> dsts_;
  // ffn_forward_batch's lists: each token's set, their union, its bundles not cached, row lists.
  std::vector<std::vector<int32_t>> batch_sets_, batch_lists_;
  std::vector<int32_t> batch_union_, batch_missing_;
  void stream_block(int layer, int n, const float* x, float* out, bool all_rows);

  // Per-token accounting.
  double predictor_ms_ = 0, io_ms_ = 0, memory_ms_ = 0;
  int64_t bytes_read_ = 0, requests_ = 0;
  int32_t window_in_force_ = 0;
};

}  // namespace flashchat
