// budget.h - the one owner of the DRAM budget: the parts a run holds, the smallest budget each
// mode accepts, and the neuron-cache rows per layer that the rest of the budget buys.
//
// Every place that needs a minimum, a capacity or a "below the minimum" message asks here.
// The Session measures the fixed parts (resident weights, predictors, the KV cache as allocated,
// runtime state) and FlashFfn the I/O buffers it holds; the budget turns them into rows.
#pragma once

#include <cstdint>
#include <string>

#include "flash/flash_model.h"
#include "runtime/flash_store.h"

namespace flashchat {

enum class FfnMode : uint8_t { Dram, Naive, Mmap, Flash };

// Prompt tokens per forward pass (session/generator.h feeds prompts in blocks of this many):
// enough to read every weight row once for many tokens (the matrix-matrix kernels run near
// their compute bound from ~16 tokens on), few enough that the block scratch stays small and a
// stop or a settings change waits at most one block.
constexpr int kPromptBlockTokens = 32;
// A prompt block's predicted sets share a pool of this many ids per FFN neuron (FlashFfn splits
// a block whose sets overflow it into sub-blocks), so its state is bounded whatever the tokens.
constexpr int kBatchIdsPerNeuron = 4;
const char* ffn_mode_name(FfnMode m);

// DRAM held outside the FFN (neuron cache and I/O buffers), bytes.
struct FixedDram {
  int64_t resident_weights = 0;  // embeddings, attention, norms, biases (as held, page-rounded)
  int64_t predictors = 0;
  int64_t kv_cache = 0;          // allocated now
  int64_t other = 0;             // runtime state: maps, transformer scratch, tokenizer
  int64_t total() const { return resident_weights + predictors + kv_cache + other; }
};

// The I/O buffers a mode holds: FlashFfn's own chunk buffer (naive reads, streamed neurons) and
// the store's staging slots. Sized by the layer so small models are not dominated by buffers.
struct IoBufferPlan {
  int32_t buffer_rows = 0;     // bundles the chunk buffer holds
  int64_t buffer_bytes = 0;    // page-rounded
  FlashStoreOptions store;     // request size fitted to the layer
  int64_t staging_bytes = 0;   // the store's staging (direct I/O), at most
  int64_t total() const { return buffer_bytes + staging_bytes; }
};
IoBufferPlan budget_io_plan(const FlashLayout& layout, FfnMode mode, bool direct_io,
                            const FlashStoreOptions& requested);

// Bytes the FFN's runtime state may take at window `window`, an upper bound that holds whatever
// the tokens do: the neuron caches' maps (row <-> neuron, per-neuron flags), the windows'
// counters and the active sets of the last `window` tokens (a layer's whole width each, at
// most), and the FlashFfn's id lists and scratch (reserved whole). Flash and dram modes only.
int64_t budget_map_bytes(const FlashLayout& layout, FfnMode mode, int window);

// Smallest budget for `mode` at window `window`: fixed + I/O buffers + the FFN's state bound +
// (flash: one bundle and its row-map entry per layer; dram: the whole FFN; naive/mmap: nothing
// cached).
int64_t budget_minimum_bytes(const FlashLayout& layout, FfnMode mode, int window,
                             int64_t fixed_bytes, int64_t io_buffer_bytes);

// Neuron-cache rows per layer that `budget_bytes` leaves after the fixed parts, the I/O buffers
// and the FFN's state bound, split evenly over layers, clamped to [0, neurons]; each row costs
// its bundle and its row-map entry. budget 0 = unlimited (all rows).
int32_t budget_cache_rows(const FlashLayout& layout, FfnMode mode, int window,
                          int64_t budget_bytes, int64_t fixed_bytes, int64_t io_buffer_bytes);

// Throws Error("budget", "<budget> is below the minimum of <minimum> for <mode> mode ...") when
// 0 < budget < minimum.
void budget_check(int64_t budget_bytes, int64_t minimum_bytes, FfnMode mode);

}  // namespace flashchat
