#include "runtime/budget.h"

#include <algorithm>

#include "core/error.h"
#include "core/units.h"

namespace flashchat {
namespace {

// The I/O buffer (naive reads, streamed neurons) and the store's staging slots are fixed DRAM
// inside the budget. Both are sized for big layers (a 6.7B layer is 256 MiB: 4 MiB buffer, 64
// slots of 64 KiB) and capped at a fraction of one layer, so small models are not dominated by
// buffers: the default model's 1.5 MiB layers get a 48 KiB buffer and 24 one-page slots.
constexpr int64_t kIoBufferTargetBytes = 4 << 20;
constexpr int64_t kIoBufferLayerDivisor = 32;  // I/O buffer <= one layer / 32
constexpr int64_t kStagingLayerDivisor = 16;   // all staging slots together <= one layer / 16
constexpr int64_t kPage = 4096;

}  // namespace

const char* ffn_mode_name(FfnMode m) {
  switch (m) {
    case FfnMode::Dram: return "dram";
    case FfnMode::Naive: return "naive";
    case FfnMode::Mmap: return "mmap";
    case FfnMode::Flash: return "flash";
  }
  return "?";
}

IoBufferPlan budget_io_plan(const FlashLayout& layout, FfnMode mode, bool direct_io,
                            const FlashStoreOptions& requested) {
  IoBufferPlan plan;
  const int64_t layer_bytes = int64_t{layout.neurons} * layout.bundle_bytes;
  const int64_t target = std::min(kIoBufferTargetBytes, layer_bytes / kIoBufferLayerDivisor);
  plan.buffer_rows = static_cast<int32_t>(
      std::clamp<int64_t>(target / layout.bundle_bytes, 1, layout.neurons));
  plan.buffer_bytes = (plan.buffer_rows * layout.bundle_bytes + kPage - 1) / kPage * kPage;
  plan.store = requested;
  int64_t slots = std::max(requested.queue_depth, requested.threads + 1);
  const int64_t fitted = layer_bytes / (kStagingLayerDivisor * slots) / kPage * kPage;
  plan.store.request_bytes = std::clamp<int64_t>(fitted, kPage, requested.request_bytes);
  if (fitted < kPage) {
    // A small layer: fewer one-page slots rather than more memory (at least 4 in flight).
    const int64_t fit_slots = std::clamp<int64_t>(layer_bytes / (kStagingLayerDivisor * kPage),
                                                  4, slots);
    plan.store.queue_depth = static_cast<int>(std::min<int64_t>(requested.queue_depth, fit_slots));
    plan.store.threads = static_cast<int>(std::clamp<int64_t>(fit_slots - 1, 1, requested.threads));
    slots = std::max(plan.store.queue_depth, plan.store.threads + 1);
  }
  const bool uses_store = mode != FfnMode::Mmap;
  plan.staging_bytes = uses_store && direct_io ? slots * plan.store.request_bytes : 0;
  return plan;
}

int64_t budget_map_bytes(const FlashLayout& layout, FfnMode mode, int window) {
  if (mode != FfnMode::Flash && mode != FfnMode::Dram) return 0;
  const int64_t n = layout.neurons;
  const int64_t k = mode == FfnMode::Flash ? std::max(window, 1) : 1;
  // Per layer: NeuronCache neuron_to_row (int32) + removing (uint8); the last-use stamps
  // (int32); NeuronWindow refs + stamp (4 + 4) and up to k active sets plus a spare one (n x 4
  // each) with the deque's blocks; the row-split vectors (a few bytes per layer).
  const int64_t per_layer = n * (4 + 1 + 4 + 4 + 4) + (k + 1) * n * 4 + 1024 + 64 * k + 32;
  // Once (layers run one at a time): twelve id lists (FlashFfn's active set and four look-ahead
  // lists, the CachePlanner's seven admission lists), identity ids, hidden values and predictor
  // scratch (n x 4 each, the predictor's rank <= 1024 on top), the victim picker's pairs (n x 8),
  // the output scratch (dim x 4) and the read list of one layer (two ReadRuns per neuron
  // without bundling; the I/O thread reads the FFN's list, no copy; a pointer per neuron). All
  // reserved whole.
  // The exact gate mode adds the gate activations and a row of ones (n x 4 each).
  const int64_t gate = layout.gate_resident ? 2 * n * 4 : 0;
  const int64_t once =
      n * (15 * 4 + 8 + 2 * 24 + 8) + gate + 1024 * 4 + int64_t{layout.dim} * 4;
  // A prompt block (flash): two pools of kBatchIdsPerNeuron x n ids (sets and row lists), the
  // union and its misses (n x 4 each), a mark per neuron, two spans per token.
  const int64_t block = mode == FfnMode::Flash
                            ? n * (2 * kBatchIdsPerNeuron * 4 + 2 * 4 + 1) +
                                  2 * kPromptBlockTokens * 16
                            : 0;
  return int64_t{layout.n_layers} * per_layer + once + block;
}

namespace {

// One cached row: its bundle and its entry in the row -> neuron map.
int64_t row_bytes(const FlashLayout& layout) { return layout.bundle_bytes + 4; }

}  // namespace

int64_t budget_minimum_bytes(const FlashLayout& layout, FfnMode mode, int window,
                             int64_t fixed_bytes, int64_t io_buffer_bytes) {
  const int64_t base = fixed_bytes + io_buffer_bytes + budget_map_bytes(layout, mode, window);
  const int64_t all_rows = row_bytes(layout) * layout.neurons * layout.n_layers;
  switch (mode) {
    case FfnMode::Dram: return base + all_rows;
    case FfnMode::Flash: return base + row_bytes(layout) * layout.n_layers;
    case FfnMode::Naive:
    case FfnMode::Mmap: return base;
  }
  return base;
}

int32_t budget_cache_rows(const FlashLayout& layout, FfnMode mode, int window,
                          int64_t budget_bytes, int64_t fixed_bytes, int64_t io_buffer_bytes) {
  if (budget_bytes <= 0 || mode == FfnMode::Dram) return layout.neurons;
  const int64_t free_bytes = budget_bytes - fixed_bytes - io_buffer_bytes -
                             budget_map_bytes(layout, mode, window);
  const int64_t rows = free_bytes / (row_bytes(layout) * layout.n_layers);
  return static_cast<int32_t>(std::clamp<int64_t>(rows, 0, layout.neurons));
}

void budget_check(int64_t budget_bytes, int64_t minimum_bytes, FfnMode mode) {
  if (budget_bytes <= 0 || budget_bytes >= minimum_bytes) return;
  fail("budget", size_format_bytes(budget_bytes) + " is below the minimum of " +
                     size_format_bytes(minimum_bytes) + " for " + ffn_mode_name(mode) +
                     " mode (resident weights, predictors, KV cache and I/O buffers" +
                     (mode == FfnMode::Flash ? std::string(", one neuron per layer)")
                                             : std::string(")")));
}

}  // namespace flashchat
