// telemetry.h - what one token cost, as one plain struct.
//
// The runtime fills one TokenTelemetry per forward pass: a generated token or a prompt block. The GUI plots, the
// CLI's --telemetry JSON lines, the database and the benchmarks all consume this struct.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace flashchat {

struct LayerTelemetry {
  int32_t neurons_predicted = 0;  // active set the predictor (or oracle) chose for this token
  int32_t neurons_added = 0;      // loaded from flash into the cache
  int32_t neurons_removed = 0;    // dropped from the cache (left the window / evicted)
  int32_t neurons_streamed = 0;   // needed but did not fit: read, used, not cached
  int32_t neurons_prefetched = 0; // loaded before the attention from the look-ahead prediction
                                  // (part of neurons_added)
  int32_t prefetch_used = 0;      // of those, in the set the layer then predicted
  int32_t cache_rows_used = 0;    // rows in use after this token
  int32_t cache_capacity = 0;     // rows preallocated
  // Filled only when predictor evaluation is on (needs the true activations).
  int32_t true_active = -1;
  int32_t true_positive = -1;
};

struct DramBytes {
  int64_t resident_weights = 0;  // embeddings, attention, norms, biases
  int64_t predictors = 0;
  int64_t neuron_cache = 0;      // cache rows resident (written at least once and within the
                                 // capacity; page-rounded), all layers; <= the reserved rows
  int64_t kv_cache = 0;
  int64_t io_buffers = 0;
  int64_t other = 0;             // runtime state: huge-page rounding, cache/window maps,
                                 // transformer scratch, tokenizer
  int64_t total() const {
    return resident_weights + predictors + neuron_cache + kv_cache + io_buffers + other;
  }
};

struct TokenTelemetry {
  int64_t index = 0;          // token number in the session
  int32_t pos = 0;            // context position
  bool prompt = false;        // a prompt token (no sampling)
  // Tokens this forward pass ran: 1 for a generated token, up to kPromptBlockTokens for a block
  // of prompt tokens (session/generator.h). A block's row covers all of them: pos is its last
  // position, times, bytes and neuron counts are the block's totals (read once for the block).
  int32_t block_tokens = 1;
  std::string mode;           // "dram", "naive", "mmap", "flash"

  // Time split, milliseconds.
  double predictor_ms = 0;
  double io_ms = 0;           // waiting for flash reads (the part of the reads not hidden)
  double io_hidden_ms = 0;    // flash reads in flight while the FFN computed cached rows
                              // (overlapped: not part of total_ms' split)
  double memory_ms = 0;       // cache management: deletes (swap with last) and appends
  double compute_ms = 0;      // everything else in the forward pass (attention, FFN math)
  double sampling_ms = 0;
  double total_ms = 0;

  // Flash reads.
  int64_t bytes_read = 0;
  int64_t read_requests = 0;
  double read_mb_per_s() const {  // over the whole time the reads were in flight
    const double ms = io_ms + io_hidden_ms;
    return ms > 0 ? bytes_read / 1e3 / ms : 0.0;
  }

  // Window and memory.
  int32_t window_requested = 0;  // k asked for
  int32_t window_in_force = 0;   // k actually held (smaller when the budget forces it)
  int64_t budget_bytes = 0;
  DramBytes dram;                  // what the engine accounts for
  int64_t process_rss_bytes = 0;   // what the kernel counts for the whole process (VmRSS)
  int64_t process_base_rss_bytes = 0;  // VmRSS measured before the model was loaded: binary,
                                       // libraries, runtime (outside the budget)
  int64_t ffn_neurons_total = 0;   // n_layers * ffn_dim
  int64_t ffn_neurons_loaded = 0;  // added + streamed, all layers
  std::vector<LayerTelemetry> layers;
};

// One JSON object on one line (for --telemetry FILE), without a trailing newline.
std::string telemetry_to_json_line(const TokenTelemetry& t);

}  // namespace flashchat
