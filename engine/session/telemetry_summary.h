// telemetry_summary.h - totals and means over a run's per-token telemetry, as a UI status line
// or the CLI's summary shows them. Sums of the measured values; nothing estimated.
#pragma once

#include <cstdint>

#include "runtime/telemetry.h"

namespace flashchat {

struct TelemetrySummary {
  // Generated tokens only (prompt tokens are counted apart: they cost differently).
  int64_t tokens = 0;
  int64_t prompt_tokens = 0;
  double predictor_ms = 0, io_ms = 0, memory_ms = 0, compute_ms = 0, sampling_ms = 0;
  double io_hidden_ms = 0;  // reads overlapped with compute (not in total_ms)
  double total_ms = 0;
  int64_t bytes_read = 0, read_requests = 0;
  int64_t neurons_loaded = 0;  // added + streamed, all layers
  int64_t neurons_total = 0;   // n_layers * ffn_dim (of the last token)
  DramBytes last_dram;         // of the last token
  int64_t peak_dram_bytes = 0;  // largest accounted total seen
  int64_t peak_rss_bytes = 0;   // largest process_rss_bytes seen

  void add(const TokenTelemetry& t);

  double mean(double sum) const { return tokens > 0 ? sum / static_cast<double>(tokens) : 0.0; }
  double bytes_read_per_token() const { return mean(static_cast<double>(bytes_read)); }
  // Percentage of the FFN loaded (added + streamed) per generated token.
  double ffn_loaded_percent() const {
    return tokens > 0 && neurons_total > 0
               ? 100.0 * static_cast<double>(neurons_loaded) / static_cast<double>(tokens) /
                     static_cast<double>(neurons_total)
               : 0.0;
  }
};

}  // namespace flashchat
