// cache_simulator.h - what-if replay: a trace's active sets through the flash cache policy under
// another window or budget, without the model or the disk.
//
// The same CachePlanner as FlashFfn (no row memory), the same read lists (ffn_runs_append) and
// the store's own request plan (flash_read_cost), so bytes read, requests and neurons added,
// removed and streamed per token are what a real run with the same active sets counts.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "runtime/active_trace.h"
#include "runtime/cache_planner.h"
#include "runtime/telemetry.h"

namespace flashchat {

struct CacheSimOptions {
  int window = 4;            // k
  int64_t budget_bytes = 0;  // 0 = unlimited
};

class CacheSimulator {
 public:
  // The trace's header gives the layout and I/O; opts the window and budget to simulate.
  // Throws Error when the budget is below the flash minimum for that window.
  CacheSimulator(const ActiveTraceHeader& header, const CacheSimOptions& opts);
  ~CacheSimulator();

  // One token: `fixed_bytes` outside the FFN before it, every layer's active set (ascending).
  // Returns the FFN's side of its telemetry (mode, bytes_read, read_requests, window and
  // budget, dram.neuron_cache and io_buffers, ffn_neurons_*, layers[]; times 0).
  // Throws Error when the budget no longer holds the fixed DRAM.
  TokenTelemetry step(int64_t fixed_bytes, const std::vector<std::vector<int32_t>>& active);
  // A block of prompt tokens (ActiveTraceToken::block): `active` per layer is their union; the
  // cache stays as it is and the bundles it lacks are streamed once, as FlashFfn's batch path.
  TokenTelemetry step_block(int64_t fixed_bytes, const std::vector<std::vector<int32_t>>& active);
  // The part of step() before the token begins: the fixed DRAM changed (the KV cache grew), the
  // cache yields rows to it (evictions no token's telemetry counts, as in the engine).
  // Throws Error when the budget no longer holds the fixed DRAM.
  void fixed_bytes_set(int64_t fixed_bytes);

  const CachePlanner& planner() const { return *planner_; }
  // Keeps every layer's row operations (appends, replaces, swaps with the last row, drops) in
  // moves() from now on; moves_clear() empties them (e.g. before each token). Off by default.
  void set_move_log(bool on);
  void moves_clear();
  const std::vector<std::vector<RowMove>>& moves() const { return moves_; }
  // Per layer, the neurons the last step loaded into the cache (ascending).
  const std::vector<std::vector<int32_t>>& last_added() const { return added_; }

 private:
  // Checks the layer count, applies the fixed bytes and begins the token.
  TokenTelemetry start(int64_t fixed_bytes, const std::vector<std::vector<int32_t>>& active);
  TokenTelemetry finish(TokenTelemetry t);
  void add_reads(int layer, const std::vector<int32_t>& neurons, uint64_t dst_base,
                 const std::vector<int32_t>* rows, TokenTelemetry& t);

  ActiveTraceHeader h_;
  CacheSimOptions opts_;
  std::unique_ptr<CachePlanner> planner_;
  std::vector<ReadRun> runs_;
  std::vector<uint8_t*> dsts_;
  std::vector<std::vector<int32_t>> added_;
  std::vector<std::vector<RowMove>> moves_;  // per layer, while the move log is on
};

// Replays every token of `trace` (with its fixed bytes) at opts; one telemetry per token.
std::vector<TokenTelemetry> cache_simulate(const ActiveTrace& trace, const CacheSimOptions& opts);

// One window size of the paper's figures, means over the trace's generated tokens (all tokens
// when it has none): neurons loaded per token (added + streamed, all layers), flash bytes per
// token, and the aggregated usage: the share of the FFN's neurons the cache holds (the union of
// the window's sets when unlimited).
struct WindowPoint {
  int window = 0;
  double loaded_per_token = 0;
  double bytes_per_token = 0;
  double resident_fraction = 0;
};
std::vector<WindowPoint> cache_window_sweep(const ActiveTrace& trace,
                                            const std::vector<int>& windows,
                                            int64_t budget_bytes);

}  // namespace flashchat
